import { readFile, writeFile } from "node:fs/promises";
import {
  formatIdentityFile,
  generateIdentity,
  parseIdentityFile,
  parseRecipient,
  passphraseIdentity,
  passphraseRecipient,
  type Identity,
  type Recipient,
} from "../../crypto/age/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** Key and passphrase files are small; anything larger is refused before reading it all. */
const KEY_FILE_MAX = 64 * 1024;

async function smallFile(path: string, what: string): Promise<string> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new SnapvmError(ErrorCode.InvalidArgument, `cannot read the ${what} ${path}`, { cause: error });
  });
  if (text.length > KEY_FILE_MAX) throw new SnapvmError(ErrorCode.InvalidArgument, `the ${what} ${path} is over ${KEY_FILE_MAX} bytes`);
  return text;
}

async function passphraseFrom(path: string): Promise<string> {
  const first = (await smallFile(path, "passphrase file")).split("\n")[0]?.replace(/\r$/, "") ?? "";
  if (first === "") throw new SnapvmError(ErrorCode.InvalidArgument, `the passphrase file ${path} is empty`);
  return first;
}

export interface RecipientChoice {
  recipient?: string[];
  recipientFile?: string[];
  passphraseFile?: string;
  /** A passphrase already read (the CLI prompts for --passphrase). */
  passphrase?: string;
}

/** The age recipients --recipient, --recipient-file, --passphrase-file and --passphrase name (none: no encryption). */
export async function readRecipients(flags: RecipientChoice): Promise<Recipient[]> {
  const recipients: Recipient[] = (flags.recipient ?? []).map((text) => parseRecipient(text));
  for (const file of flags.recipientFile ?? []) {
    for (const line of (await smallFile(file, "recipient file")).split("\n")) {
      const text = line.trim();
      if (text !== "" && !text.startsWith("#")) recipients.push(parseRecipient(text));
    }
  }
  if (flags.passphraseFile !== undefined || flags.passphrase !== undefined) {
    if (recipients.length > 0 || (flags.passphraseFile !== undefined && flags.passphrase !== undefined))
      throw new SnapvmError(ErrorCode.InvalidArgument, "a passphrase cannot be combined with recipients or another passphrase (age allows it only alone)");
    recipients.push(passphraseRecipient(flags.passphrase ?? (await passphraseFrom(flags.passphraseFile ?? ""))));
  }
  return recipients;
}

/** The identities --identity and --passphrase-file name, to decrypt with. */
export async function readIdentities(identityFiles: readonly string[], passphraseFile: string | undefined, passphrase?: string): Promise<Identity[]> {
  const identities: Identity[] = [];
  for (const file of identityFiles) identities.push(...parseIdentityFile(await smallFile(file, "identity file")));
  if (passphraseFile !== undefined) identities.push(passphraseIdentity(await passphraseFrom(passphraseFile)));
  if (passphrase !== undefined) identities.push(passphraseIdentity(passphrase));
  return identities;
}

/** `snapvm key generate --out FILE`: a new X25519 identity in age-keygen's format, 0600, never overwriting. */
export async function generateKeyFile(out: string): Promise<{ identityFile: string; recipient: string }> {
  const { identity, recipient } = generateIdentity();
  await writeFile(out, formatIdentityFile(identity), { mode: 0o600, flag: "wx" }).catch((error: unknown) => {
    throw new SnapvmError(ErrorCode.InvalidArgument, `cannot write ${out}${(error as NodeJS.ErrnoException).code === "EEXIST" ? ": it already exists" : ""}`, {
      cause: error,
    });
  });
  return { identityFile: out, recipient };
}
