import { randomBytes } from "node:crypto";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { FILE_KEY_SIZE, SCRYPT_STANZA_TYPE, X25519_STANZA_TYPE } from "./constants.ts";
import { decryptError } from "./errors.ts";
import type { Identity, Recipient } from "./keys.ts";
import { scryptParams, unwrapScrypt, wrapScrypt, type ScryptParams } from "./scrypt-stanza.ts";
import type { Stanza } from "./stanza.ts";
import { unwrapX25519, wrapX25519, x25519Share } from "./x25519-stanza.ts";

/** A fresh file key wrapped for every recipient. A passphrase must be the only recipient (spec). */
export async function wrapFileKey(recipients: readonly Recipient[]): Promise<{ fileKey: Buffer; stanzas: Stanza[] }> {
  if (recipients.length === 0) throw new SnapvmError(ErrorCode.InvalidArgument, "age: encryption needs at least one recipient");
  if (recipients.length > 1 && recipients.some((r) => r.kind === "scrypt")) {
    throw new SnapvmError(ErrorCode.InvalidArgument, "age: a passphrase must be the only recipient of a file", {
      hint: "encrypt either to a passphrase or to age1… recipients, not both",
    });
  }
  const fileKey = randomBytes(FILE_KEY_SIZE);
  const stanzas: Stanza[] = [];
  for (const recipient of recipients) {
    stanzas.push(recipient.kind === "x25519" ? wrapX25519(fileKey, recipient) : await wrapScrypt(fileKey, recipient));
  }
  return { fileKey, stanzas };
}

/**
 * The file key from the first stanza an identity opens. Known stanza types are checked for
 * well-formedness before any trial (a malformed one fails the header even if another would match);
 * unknown types are ignored as the spec requires.
 */
export async function unwrapFileKey(stanzas: readonly Stanza[], identities: readonly Identity[]): Promise<Buffer> {
  if (stanzas.length > 1 && stanzas.some((s) => s.type === SCRYPT_STANZA_TYPE)) {
    throw decryptError("header", "an scrypt stanza must be the only stanza in the header");
  }
  const checked = stanzas.map((stanza): { stanza: Stanza; share?: Buffer; scrypt?: ScryptParams } =>
    stanza.type === X25519_STANZA_TYPE
      ? { stanza, share: x25519Share(stanza) }
      : stanza.type === SCRYPT_STANZA_TYPE
        ? { stanza, scrypt: scryptParams(stanza) }
        : { stanza },
  );
  for (const entry of checked) {
    for (const identity of identities) {
      let fileKey: Buffer | undefined;
      if (identity.kind === "x25519" && entry.share !== undefined) fileKey = unwrapX25519(entry.stanza, entry.share, identity);
      if (identity.kind === "scrypt" && entry.scrypt !== undefined) fileKey = await unwrapScrypt(entry.stanza, entry.scrypt, identity);
      if (fileKey !== undefined) return fileKey;
    }
  }
  const passphrase = identities.some((i) => i.kind === "scrypt");
  throw new SnapvmError(ErrorCode.WrongKey, `age: no identity matched any of the ${stanzas.length} recipient stanza(s)`, {
    hint: passphrase ? "the passphrase is wrong, or the file was encrypted to a key" : "the file was encrypted to other recipients or to a passphrase",
    details: { stanzas: stanzas.map((s) => s.type) },
  });
}
