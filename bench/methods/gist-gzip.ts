import { shellQuote } from "../../src/util/shell-quote.ts";
import { rawMethod } from "./raw-method.ts";
import type { MethodEnv, SuspendMethod } from "./types.ts";

/**
 * The baseline, the well-known gist: `migrate "exec:gzip -c > STATE.gz"`, restore with
 * `-incoming "exec:gzip -c -d STATE.gz"` + `cont`. Driven over QMP with the bandwidth cap raised and
 * every capability off (DESIGN.md §2), so it is the gist at its best.
 */
export function gistGzip(env: MethodEnv): SuspendMethod {
  return rawMethod(
    {
      id: "gist-gzip",
      input: "qemu-anonymous",
      stateFile: "state.gz",
      save: (state) => ({ uri: `exec:gzip -c > ${shellQuote([state])}`, capabilities: [] }),
      restore: (state) => ({ uri: `exec:gzip -c -d ${shellQuote([state])}`, capabilities: [] }),
    },
    env,
  );
}
