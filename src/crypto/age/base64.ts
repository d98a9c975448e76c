/**
 * age's base64: RFC 4648 standard alphabet without `=` padding. Decoding is strict: Node's decoder
 * skips invalid characters and ignores non-zero trailing bits, so a text is accepted only if it uses
 * the alphabet alone and re-encodes to itself (the spec requires rejecting non-canonical encodings,
 * which keeps headers non-malleable).
 */
const ALPHABET = /^[A-Za-z0-9+/]*$/;

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64").replace(/=+$/, "");
}

/** Returns the bytes, or undefined when `text` is not canonical unpadded base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64");
  return encodeBase64(bytes) === text ? bytes : undefined;
}
