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
} from "../crypto/age/index.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { parseEndpoint } from "../instance/bundles/endpoints.ts";
import { exportSnapshot } from "../instance/bundles/export.ts";
import { importBundle } from "../instance/bundles/import.ts";
import { parseInstanceName, parseSnapshotTag } from "../paths/index.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

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

export interface ExportFlags {
  to: string;
  recipient?: string[];
  recipientFile?: string[];
  passphraseFile?: string;
  endpoint?: string;
  level?: number;
  json?: true;
}

async function recipientsOf(flags: ExportFlags): Promise<Recipient[]> {
  const recipients: Recipient[] = (flags.recipient ?? []).map((text) => parseRecipient(text));
  for (const file of flags.recipientFile ?? []) {
    for (const line of (await smallFile(file, "recipient file")).split("\n")) {
      const text = line.trim();
      if (text !== "" && !text.startsWith("#")) recipients.push(parseRecipient(text));
    }
  }
  if (flags.passphraseFile !== undefined) {
    if (recipients.length > 0) throw new SnapvmError(ErrorCode.InvalidArgument, "a passphrase cannot be combined with recipients (age allows it only alone)");
    recipients.push(passphraseRecipient(await passphraseFrom(flags.passphraseFile)));
  }
  return recipients;
}

export async function snapshotExportCommand(nameText: string, tagText: string, flags: ExportFlags): Promise<void> {
  const [name, tag] = [parseInstanceName(nameText), parseSnapshotTag(tagText)];
  const endpoint = parseEndpoint(flags.to);
  const recipients = await recipientsOf(flags);
  const r = await withProgress(name, (progress) =>
    exportSnapshot(name, tag, endpoint, {
      recipients,
      onProgress: progress.step,
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
      ...(flags.level === undefined ? {} : { level: flags.level }),
    }),
  );
  const line = `${r.instance}@${r.tag} → ${r.to}: ${bytes(r.sentBytes)} sent${r.encrypted ? " (age-encrypted)" : ""}, ${bytes(r.dataBytes)} of data in ${r.files.length} files, ${ms(r.totalMs)} (${r.megabytesPerSecond.toFixed(0)} MiB/s)`;
  // The bundle itself is on standard output: the summary goes to standard error.
  if (endpoint.kind === "stdio") process.stderr.write(`${flags.json === true ? JSON.stringify(r) : line}\n`);
  else printResult(r, flags.json === true, () => line);
}

export interface ImportFlags {
  as?: string;
  identity?: string[];
  passphraseFile?: string;
  endpoint?: string;
  json?: true;
}

export async function snapshotImportCommand(source: string, flags: ImportFlags): Promise<void> {
  const endpoint = parseEndpoint(source);
  const identities: Identity[] = [];
  for (const file of flags.identity ?? []) identities.push(...parseIdentityFile(await smallFile(file, "identity file")));
  if (flags.passphraseFile !== undefined) identities.push(passphraseIdentity(await passphraseFrom(flags.passphraseFile)));
  const r = await withProgress(flags.as ?? "import", (progress) =>
    importBundle(endpoint, {
      identities,
      onProgress: progress.step,
      ...(flags.as === undefined ? {} : { as: flags.as }),
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    }),
  );
  printResult(
    r,
    flags.json === true,
    () =>
      `imported ${r.from.instance}@${r.from.tag} (from ${r.from.host}) as ${r.name}@${r.tag}: ${bytes(r.dataBytes)} of data${r.encrypted ? ", decrypted" : ""}, ${ms(r.totalMs)}; next: snapvm snapshot restore ${r.name} ${r.tag}, or snapvm fork ${r.name}@${r.tag} NEW`,
  );
}

export async function keyGenerateCommand(flags: { out: string; json?: true }): Promise<void> {
  const { identity, recipient: publicKey } = generateIdentity();
  await writeFile(flags.out, formatIdentityFile(identity), { mode: 0o600, flag: "wx" }).catch((error: unknown) => {
    throw new SnapvmError(
      ErrorCode.InvalidArgument,
      `cannot write ${flags.out}${(error as NodeJS.ErrnoException).code === "EEXIST" ? ": it already exists" : ""}`,
      { cause: error },
    );
  });
  printResult(
    { identityFile: flags.out, recipient: publicKey },
    flags.json === true,
    () => `wrote ${flags.out} (0600); public key (give it to --recipient): ${publicKey}`,
  );
}
