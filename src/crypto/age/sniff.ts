import { VERSION_PREFIX } from "./constants.ts";

const PREFIX = Buffer.from(VERSION_PREFIX, "latin1");

/** Bytes a caller must have read to tell an age file by its start. */
export const AGE_SNIFF_BYTES = PREFIX.length;

/** Whether bytes start like an age file (its version line's prefix, any version). */
export function looksLikeAge(head: Buffer): boolean {
  return head.subarray(0, PREFIX.length).equals(PREFIX);
}
