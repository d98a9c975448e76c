import { createRequire } from "node:module";

// zstd-napi is CommonJS with a native addon; require() finds its .node file however snapvm is bundled.
const require = createRequire(import.meta.url);
/** The three functions of zstd-napi's low-level binding used here (its binding.d.ts, not reachable by a module path). */
interface ZstdBinding {
  findFrameCompressedSize(frame: Uint8Array): number;
  getFrameContentSize(frame: Uint8Array): number | null;
  decompress(target: Uint8Array, source: Uint8Array): number;
}
const binding = require("zstd-napi/binding.js") as ZstdBinding;
const simple = require("zstd-napi") as typeof import("zstd-napi");

/** One independent zstd frame holding `raw`, with its content size in the header. */
export function compressFrame(raw: Buffer, level: number): Buffer {
  return simple.compress(raw, { compressionLevel: level });
}

/**
 * Decodes one frame into `target` (whose length is the raw length the record declared). Returns false
 * unless the input is exactly one frame that declares and yields exactly that length: nothing larger is
 * ever allocated or written, whatever the frame claims.
 */
export function decompressFrameInto(frame: Buffer, target: Buffer): boolean {
  try {
    if (binding.findFrameCompressedSize(frame) !== frame.length) return false;
    if (binding.getFrameContentSize(frame) !== target.length) return false;
    return binding.decompress(target, frame) === target.length;
  } catch {
    return false;
  }
}
