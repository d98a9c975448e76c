import { shellQuote } from "../../src/util/shell-quote.ts";
import { rawMethod } from "./raw-method.ts";
import type { MethodEnv, SuspendMethod } from "./types.ts";

/** The gist with `zstd -T0` (all cores, level 3) in place of gzip. */
export function gistZstd(env: MethodEnv): SuspendMethod {
  return rawMethod(
    {
      id: "gist-zstd",
      input: "qemu-anonymous",
      stateFile: "state.zst",
      save: (state) => ({ uri: `exec:zstd -T0 -q -c > ${shellQuote([state])}`, capabilities: [] }),
      restore: (state) => ({ uri: `exec:zstd -q -d -c ${shellQuote([state])}`, capabilities: [] }),
    },
    env,
  );
}
