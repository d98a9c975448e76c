import { randomBytes } from "node:crypto";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { FILE_KEY_SIZE, TAG_SIZE, X25519_INFO, X25519_STANZA_TYPE } from "./constants.ts";
import { decryptError, invalidKey } from "./errors.ts";
import type { X25519Identity, X25519Recipient } from "./keys.ts";
import { hkdf32, open, seal, ZERO_NONCE } from "./primitives.ts";
import type { Stanza } from "./stanza.ts";
import { X25519_KEY_SIZE, x25519PublicKey, x25519SharedSecret } from "./x25519.ts";

function wrapKey(shared: Buffer, share: Buffer, recipient: Buffer): Buffer {
  return hkdf32(shared, Buffer.concat([share, recipient]), X25519_INFO);
}

/** A fresh ephemeral key per stanza, as the spec requires. */
export function wrapX25519(fileKey: Buffer, recipient: X25519Recipient): Stanza {
  const ephemeral = randomBytes(X25519_KEY_SIZE);
  const share = x25519PublicKey(ephemeral);
  const shared = x25519SharedSecret(ephemeral, recipient.publicKey);
  if (shared === undefined) throw invalidKey("age recipient is a low-order X25519 point: nothing can decrypt to it");
  const body = seal(wrapKey(shared, share, recipient.publicKey), ZERO_NONCE, fileKey);
  return { type: X25519_STANZA_TYPE, args: [encodeBase64(share)], body };
}

/** The ephemeral share of a well-formed X25519 stanza; anything else is a header failure. */
export function x25519Share(stanza: Stanza): Buffer {
  if (stanza.args.length !== 1) throw decryptError("header", "X25519 stanza must have exactly one argument");
  const share = decodeBase64(stanza.args[0] ?? "");
  if (share?.length !== X25519_KEY_SIZE) throw decryptError("header", "X25519 share is not canonical base64 of 32 bytes");
  // Checked before any decryption: a body of another length invites partitioning-oracle attacks.
  if (stanza.body.length !== FILE_KEY_SIZE + TAG_SIZE) throw decryptError("header", "X25519 stanza body is not 32 bytes");
  return share;
}

/** The file key if this stanza was made for `identity`, else undefined. */
export function unwrapX25519(stanza: Stanza, share: Buffer, identity: X25519Identity): Buffer | undefined {
  const shared = x25519SharedSecret(identity.secretKey, share);
  if (shared === undefined) throw decryptError("header", "X25519 share is a low-order point (all-zero shared secret)");
  return open(wrapKey(shared, share, identity.publicKey), ZERO_NONCE, stanza.body);
}
