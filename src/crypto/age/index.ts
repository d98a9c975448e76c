/**
 * age v1 (C2SP age.md, age-encryption.org/v1) on node:crypto alone: X25519 and scrypt recipients,
 * STREAM payload, streaming Transforms with bounded memory. No ASCII armor and no plugins: snapshot
 * bundles are binary and keys are native X25519 or a passphrase.
 */
export { createEncryptStream, type AgeKeyMaterial, type EncryptOptions } from "./encrypt-stream.ts";
export { createDecryptStream } from "./decrypt-stream.ts";
export { AGE_SNIFF_BYTES, looksLikeAge } from "./sniff.ts";
export { encryptBuffer, decryptBuffer } from "./buffer.ts";
export { generateIdentity, parseIdentity, parseRecipient, formatIdentity, formatRecipient } from "./key-text.ts";
export { parseIdentityFile, formatIdentityFile } from "./identity-file.ts";
export {
  passphraseIdentity,
  passphraseRecipient,
  type Identity,
  type Recipient,
  type X25519Identity,
  type X25519Recipient,
  type ScryptIdentity,
  type ScryptRecipient,
  type PassphraseIdentityOptions,
  type PassphraseRecipientOptions,
} from "./keys.ts";
export type { DecryptStage } from "./errors.ts";
