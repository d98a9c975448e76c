/** Fixed values of the age v1 format (C2SP age.md) and the limits this implementation enforces. */

export const VERSION_LINE = "age-encryption.org/v1";
export const VERSION_PREFIX = "age-encryption.org/";
export const FILE_KEY_SIZE = 16;
export const PAYLOAD_NONCE_SIZE = 16;
export const TAG_SIZE = 16;
/** Plaintext bytes per STREAM chunk; every chunk but the last is exactly this long. */
export const CHUNK_SIZE = 64 * 1024;
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
/** Stanza bodies are wrapped at this many base64 columns. */
export const BODY_COLUMNS = 64;

/** A header larger than this is refused before it is parsed (bounded memory on hostile input). */
export const MAX_HEADER_SIZE = 64 * 1024;
/** More stanzas than this are refused: each costs an X25519 or ChaCha20 trial per identity. */
export const MAX_STANZAS = 256;

export const X25519_STANZA_TYPE = "X25519";
export const X25519_INFO = "age-encryption.org/v1/X25519";
export const SCRYPT_STANZA_TYPE = "scrypt";
export const SCRYPT_SALT_LABEL = "age-encryption.org/v1/scrypt";
export const SCRYPT_SALT_SIZE = 16;
/** age's own default: about a second of CPU and 256 MiB. */
export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
/** age's own cap on decrypt: 2^22 costs 4 GiB and several seconds, the most a hostile file may ask for. */
export const MAX_SCRYPT_WORK_FACTOR = 22;

export const RECIPIENT_HRP = "age";
export const IDENTITY_HRP = "age-secret-key-";
