import { randomBytes, scrypt } from "node:crypto";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { FILE_KEY_SIZE, SCRYPT_SALT_LABEL, SCRYPT_SALT_SIZE, SCRYPT_STANZA_TYPE, TAG_SIZE } from "./constants.ts";
import { decryptError } from "./errors.ts";
import type { ScryptIdentity, ScryptRecipient } from "./keys.ts";
import { open, seal, ZERO_NONCE } from "./primitives.ts";
import type { Stanza } from "./stanza.ts";

const DECIMAL = /^[1-9][0-9]*$/;

/** scrypt(N = 2^workFactor, r = 8, p = 1) on libuv's thread pool: ~1 s at 18, never on the event loop. */
function scryptKey(passphrase: Buffer, salt: Buffer, workFactor: number): Promise<Buffer> {
  const N = 2 ** workFactor;
  const options = { N, r: 8, p: 1, maxmem: 2 * 128 * 8 * N };
  const fullSalt = Buffer.concat([Buffer.from(SCRYPT_SALT_LABEL, "latin1"), salt]);
  return new Promise((resolve, reject) => {
    scrypt(passphrase, fullSalt, 32, options, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });
}

export async function wrapScrypt(fileKey: Buffer, recipient: ScryptRecipient): Promise<Stanza> {
  const salt = randomBytes(SCRYPT_SALT_SIZE);
  const key = await scryptKey(recipient.passphrase, salt, recipient.workFactor);
  return { type: SCRYPT_STANZA_TYPE, args: [encodeBase64(salt), String(recipient.workFactor)], body: seal(key, ZERO_NONCE, fileKey) };
}

export interface ScryptParams {
  readonly salt: Buffer;
  readonly workFactor: number;
}

/** Salt and work factor of a well-formed scrypt stanza; anything else is a header failure. */
export function scryptParams(stanza: Stanza): ScryptParams {
  if (stanza.args.length !== 2) throw decryptError("header", "scrypt stanza must have exactly two arguments");
  const salt = decodeBase64(stanza.args[0] ?? "");
  if (salt?.length !== SCRYPT_SALT_SIZE) throw decryptError("header", "scrypt salt is not canonical base64 of 16 bytes");
  const text = stanza.args[1] ?? "";
  // Digits only, no leading zero; more than two digits can only be over any limit.
  if (!DECIMAL.test(text) || text.length > 2) throw decryptError("header", `scrypt work factor "${text.slice(0, 8)}" is not a decimal from 1 to 99`);
  if (stanza.body.length !== FILE_KEY_SIZE + TAG_SIZE) throw decryptError("header", "scrypt stanza body is not 32 bytes");
  return { salt, workFactor: Number(text) };
}

/** The file key if the passphrase fits, else undefined; a work factor over the identity's limit is refused unrun. */
export async function unwrapScrypt(stanza: Stanza, params: ScryptParams, identity: ScryptIdentity): Promise<Buffer | undefined> {
  if (params.workFactor > identity.maxWorkFactor) {
    throw decryptError("header", `scrypt work factor ${params.workFactor} is over the limit of ${identity.maxWorkFactor}`, {
      hint: "the file asks for more CPU and memory than allowed; raise maxWorkFactor only for a trusted file",
      details: { workFactor: params.workFactor, maxWorkFactor: identity.maxWorkFactor },
    });
  }
  const key = await scryptKey(identity.passphrase, params.salt, params.workFactor);
  return open(key, ZERO_NONCE, stanza.body);
}
