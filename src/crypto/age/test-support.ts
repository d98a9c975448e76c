import { setImmediate as nextTurn } from "node:timers/promises";
import { createDecryptStream } from "./decrypt-stream.ts";
import type { Identity } from "./keys.ts";

/** What a consumer of the decrypt stream saw: the plaintext released to it and the error, if any. */
export interface DecryptOutcome {
  readonly plaintext: Buffer;
  readonly error: unknown;
}

/**
 * Feeds `file` to a decrypt stream in `pieceSize` writes, yielding a turn after each so released
 * plaintext reaches the consumer before a later error destroys the stream. Test helper, not API.
 */
export async function decryptInPieces(file: Buffer, identities: readonly Identity[], pieceSize = 4096): Promise<DecryptOutcome> {
  const stream = createDecryptStream(identities);
  const parts: Buffer[] = [];
  let error: unknown;
  stream.on("data", (chunk: Buffer) => parts.push(chunk));
  const done = new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("error", (e) => {
      error = e;
      resolve();
    });
  });
  for (let offset = 0; offset < file.length && error === undefined; offset += pieceSize) {
    stream.write(file.subarray(offset, offset + pieceSize));
    await nextTurn();
  }
  if (error === undefined) stream.end();
  await done;
  return { plaintext: Buffer.concat(parts), error };
}
