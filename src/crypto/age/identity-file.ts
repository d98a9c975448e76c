import { invalidKey } from "./errors.ts";
import { formatRecipient, parseIdentity } from "./key-text.ts";
import type { X25519Identity } from "./keys.ts";

/** An identity file larger than this is not a key file; refusing it bounds the parse. */
const MAX_IDENTITY_FILE = 1024 * 1024;

/**
 * age-keygen's format: `#` comment lines and blank lines are ignored, every other line is one
 * `AGE-SECRET-KEY-1…` identity. A trailing CR is tolerated (files edited on Windows); any other
 * stray character makes the line, and so the file, invalid.
 */
export function parseIdentityFile(text: string): X25519Identity[] {
  if (text.length > MAX_IDENTITY_FILE) throw invalidKey(`age identity file is over ${MAX_IDENTITY_FILE} bytes`);
  const identities: X25519Identity[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#")) continue;
    try {
      identities.push(parseIdentity(line));
    } catch (error) {
      throw invalidKey(`age identity file, line ${index + 1}: ${error instanceof Error ? error.message : "invalid"}`, {
        line: index + 1,
      });
    }
  }
  if (identities.length === 0) throw invalidKey("age identity file holds no AGE-SECRET-KEY-1… line");
  return identities;
}

/** Seconds precision with a Z offset, like age-keygen's RFC 3339 stamp. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The file age-keygen writes: creation time, the public key as a comment, the secret key line. */
export function formatIdentityFile(identity: string, created: Date = new Date()): string {
  const parsed = parseIdentity(identity);
  return `# created: ${rfc3339(created)}\n# public key: ${formatRecipient(parsed)}\n${identity}\n`;
}
