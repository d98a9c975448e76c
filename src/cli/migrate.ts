import { checkSize } from "../config/index.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { parseInstanceName, parseMigrationDest } from "../paths/index.ts";
import { LineChannel } from "../instance/migrate/line-channel.ts";
import { migrateInstance } from "../instance/migrate/send.ts";
import { resumeMigration } from "../instance/migrate/resume.ts";
import { receiveMigration, type ReceiveChannel } from "../instance/migrate/receive.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

/** The source sends a heartbeat every second; ten missed mean the link or the source is gone. */
const SOURCE_SILENCE_MS = 10_000;

function parseBandwidth(text: string): number {
  const size = checkSize(text);
  if (!size.ok || size.bytes === 0)
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid --bandwidth ${JSON.stringify(text)}: ${size.ok ? "it is zero" : size.reason}`, {
      hint: 'Give bytes per second with an optional unit, e.g. "100M" (100 MiB/s).',
    });
  return size.bytes;
}

export async function migrateCommand(
  name: string,
  dest: string | undefined,
  flags: { bandwidth?: string; postcopy?: true; resume?: true; json?: true },
): Promise<void> {
  const instance = parseInstanceName(name);
  if (flags.resume === true) {
    if (dest !== undefined)
      throw new SnapvmError(ErrorCode.InvalidArgument, "--resume takes no DEST: the broken migration's own is used", {
        hint: `Run \`snapvm migrate ${name} --resume\`.`,
      });
    const resumed = await withProgress(instance, (progress) => resumeMigration(instance, { onStep: progress.step }));
    printResult(
      resumed,
      flags.json === true,
      (r) => `${r.name} moved to ${r.to} after a resumed post-copy: ${bytes(r.bytes)} of memory in all, ${ms(r.totalMs)} to resume`,
    );
    return;
  }
  if (dest === undefined)
    throw new SnapvmError(ErrorCode.InvalidArgument, "snapvm migrate needs DEST", {
      hint: "Name the other host as ssh://[USER@]HOST[:PORT][/PATH-TO-SNAPVM-HOME].",
    });
  const target = parseMigrationDest(dest);
  const bandwidth = flags.bandwidth === undefined ? undefined : parseBandwidth(flags.bandwidth);
  const result = await withProgress(instance, (progress) =>
    migrateInstance(instance, target, {
      ...(bandwidth === undefined ? {} : { bandwidth }),
      ...(flags.postcopy === true ? { postcopy: true } : {}),
      onStep: progress.step,
      onProgress: (p) => {
        progress.step(
          `sent ${bytes(p.transferredBytes)}, ${bytes(p.remainingBytes)} left at ${bytes(p.bytesPerSecond)}/s, dirtying ${bytes(p.dirtyBytesPerSecond)}/s, expected downtime ${ms(p.expectedDowntimeMs)}`,
        );
      },
    }),
  );
  printResult(
    result,
    flags.json === true,
    (r) =>
      `${r.name} moved to ${r.to}: downtime ${ms(r.downtimeMs)}, ${ms(r.totalMs)} in all, sent ${bytes(r.bytes)} of memory, ${bytes(r.diskBytes)} of disk` +
      (r.fileBytes > 0 ? `, ${bytes(r.fileBytes)} of files` : "") +
      (r.ramSettle === undefined
        ? ""
        : `; RAM moved back from tmpfs to its file there (${bytes(r.ramSettle.copiedBytes)}, guest paused ${ms(r.ramSettle.pauseMs)})`),
  );
}

/** The hidden `snapvm migrate-receive`, run over ssh by `snapvm migrate`: JSON lines on stdin and stdout. */
export async function migrateReceiveCommand(): Promise<void> {
  const channel: ReceiveChannel = new LineChannel(process.stdin, process.stdout, "the source", { silenceMs: SOURCE_SILENCE_MS });
  try {
    await receiveMigration(channel);
  } finally {
    channel.close();
    process.stdin.destroy();
  }
}
