import { createRequire } from "node:module";

// zstd-napi is CommonJS with a native addon; require() finds its .node file however snapvm is bundled.
const require = createRequire(import.meta.url);

/**
 * What the frame workers use of zstd-napi's low-level binding (its binding.d.ts, not reachable by a
 * module path). One context per worker: a context is reused frame after frame, never shared.
 */
export interface ZstdBinding {
  CCtx: new () => { compress(target: Uint8Array, source: Uint8Array, level: number): number };
  DCtx: new () => { decompress(target: Uint8Array, source: Uint8Array): number };
  compressBound(sourceBytes: number): number;
  findFrameCompressedSize(frame: Uint8Array): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}

/**
 * The binding's absolute path, which a worker requires on its own (an eval'd worker resolves bare names
 * from the working directory, not from snapvm's node_modules).
 */
export const ZSTD_BINDING_PATH = require.resolve("zstd-napi/binding.js");
