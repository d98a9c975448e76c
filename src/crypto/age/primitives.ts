import { createCipheriv, createDecipheriv, createHmac, hkdfSync, type KeyObject } from "node:crypto";
import { TAG_SIZE } from "./constants.ts";

/** HKDF-SHA-256 (extract with `salt`, expand with `info`) to 32 bytes, as every age key is derived. */
export function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, salt, info, 32));
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** ChaCha20-Poly1305 seal: ciphertext || 16-byte tag. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_SIZE });
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** ChaCha20-Poly1305 open of ciphertext || tag; undefined when the tag does not authenticate. */
export function open(key: Uint8Array | KeyObject, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < TAG_SIZE) return undefined;
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    // OpenSSL's only failure here is a tag mismatch ("Unsupported state or unable to authenticate data").
    return undefined;
  }
  return plaintext;
}

/** Stanza bodies are sealed with a fresh single-use key, so their nonce is fixed at zero. */
export const ZERO_NONCE = Buffer.alloc(12);
