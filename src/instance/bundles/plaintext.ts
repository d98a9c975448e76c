import { pipeline, Readable } from "node:stream";
import { AGE_SNIFF_BYTES, createDecryptStream, looksLikeAge, type Identity } from "../../crypto/age/index.ts";

/** The stream as plaintext: an age file goes through the decrypt stream (which authenticates each chunk first). */
export async function plaintext(input: Readable, identities: readonly Identity[]): Promise<{ stream: AsyncIterable<Buffer>; encrypted: boolean }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < AGE_SNIFF_BYTES && !done) {
    const next = await iterator.next();
    if (next.done === true) done = true;
    else head = Buffer.concat([head, next.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  const encrypted = looksLikeAge(head);
  if (!encrypted || identities.length === 0) return { stream: rest(), encrypted };
  const decrypt = createDecryptStream(identities);
  // pipeline, not pipe: an error of the source (a broken download, a destroyed body) reaches the reader.
  pipeline(Readable.from(rest()), decrypt, () => undefined);
  return { stream: decrypt, encrypted };
}
