import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { isErrno } from "../../errors/index.ts";

/**
 * X25519 on raw 32-byte keys via node:crypto. Node imports raw X25519 keys only as DER (or JWK); the
 * fixed RFC 8410 prefixes below wrap a raw key as PKCS#8 / SPKI.
 */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

export const X25519_KEY_SIZE = 32;

function privateKeyObject(secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: "der", type: "pkcs8" });
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
}

/** X25519(secret, basepoint). */
export function x25519PublicKey(secret: Uint8Array): Buffer {
  const der = createPublicKey(privateKeyObject(secret)).export({ format: "der", type: "spki" });
  return Buffer.from(der.subarray(SPKI_PREFIX.length));
}

/**
 * X25519(secret, publicKey), or undefined when the result is all zeros (a low-order or identity
 * point), which age requires aborting on. OpenSSL refuses to derive that value itself.
 */
export function x25519SharedSecret(secret: Uint8Array, publicKey: Uint8Array): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(secret), publicKey: publicKeyObject(publicKey) });
  } catch (error) {
    if (isErrno(error, "ERR_OSSL_FAILED_DURING_DERIVATION")) return undefined;
    throw error;
  }
  return shared.every((b) => b === 0) ? undefined : shared;
}
