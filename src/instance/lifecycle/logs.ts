import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { followFile } from "../../util/follow-file.ts";

export type LogKind = "console" | "agent" | "events";

export function logPath(name: InstanceName, kind: LogKind, home?: string): string {
  const paths = instancePaths(name, home);
  return kind === "console" ? paths.consoleLog : kind === "agent" ? paths.agentLog : paths.events;
}

/**
 * Yields the log's content, then (with follow) what is appended, until `signal` aborts. A log that
 * does not exist yet (an instance never started) is waited for, not an error.
 */
export async function* readLog(
  name: InstanceName,
  kind: LogKind,
  options: { follow?: boolean; signal?: AbortSignal; home?: string } = {},
): AsyncGenerator<Buffer> {
  await inspectInstance(name, options.home); // a clear error for an unknown instance
  yield* followFile(logPath(name, kind, options.home), {
    ...(options.follow === undefined ? {} : { follow: options.follow }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
