import { spawn } from "node:child_process";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { QEMU_BINARY } from "./argv.ts";

import type { VmExit } from "../driver.ts";

export type QemuExit = VmExit;

export interface QemuProcess {
  pid: number;
  exited: Promise<QemuExit>;
  stderrTail(): string;
  kill(signal?: NodeJS.Signals): void;
}

const STDERR_TAIL_LINES = 20;

/**
 * Starts QEMU as a child of the calling process (the agent). Resolves once the process exists;
 * `exited` settles when it ends, whatever the reason.
 */
export async function spawnQemu(argv: readonly string[], onStderrLine: (line: string) => void = () => undefined): Promise<QemuProcess> {
  const child = spawn(QEMU_BINARY, argv, { stdio: ["ignore", "ignore", "pipe"] });
  const tail: string[] = [];
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      onStderrLine(line);
    }
  });
  const stderrTail = (): string => [...tail, partial].filter((l) => l !== "").join("\n");
  const exited = new Promise<QemuExit>((resolve) => {
    child.on("close", (code, signal) => {
      const exit = { code, signal, stderrTail: stderrTail() };
      resolve({ ...exit, reason: describeExit(exit) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (cause: NodeJS.ErrnoException) => {
      reject(
        new SnapvmError(ErrorCode.QemuMissing, `cannot start ${QEMU_BINARY}: ${cause.message}`, {
          hint: "Install QEMU 10 with scripts/setup-host.sh.",
          cause,
        }),
      );
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("spawned QEMU has no pid");
  return {
    pid,
    exited,
    stderrTail,
    kill: (signal: NodeJS.Signals = "SIGKILL") => {
      child.kill(signal);
    },
  };
}

export function describeExit(exit: Omit<QemuExit, "reason">): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? "?"}`;
  return exit.stderrTail === "" ? `QEMU ${how}` : `QEMU ${how}: ${exit.stderrTail}`;
}
