import { execFile } from "node:child_process";
import { mkdir, realpath, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LaunchSpec } from "../../src/config/launch-spec.ts";
import { migrateOut } from "../../src/driver/qemu/migrate.ts";
import { createOverlay, imageFacts } from "../../src/driver/qemu/qemu-img.ts";
import { fsyncFile } from "../../src/util/fsync.ts";
import type { QemuGuest, RunningGuest } from "../guest/running.ts";
import { memoryOf } from "../host.ts";
import { MIGRATION_TIMEOUT_MS, restoreRaw } from "../qemu/raw.ts";
import type { ForkFigures, ForkMethod, MethodEnv } from "./types.ts";

const run = promisify(execFile);

/** The same fan-outs as snapvm-fork's, so each of its rows has a raw row beside it. */
const CLONE_COUNTS = [1, 4, 16, 64] as const;
const STATE = "devices.state";
const RAM = "template.ram";
const DISK = "template.qcow2";

/**
 * Raw QEMU clones (DESIGN.md §3), the floor `snapvm fork --count N` is compared with: the running
 * guest is paused once to write a template (its device state saved with x-ignore-shared, its RAM file
 * and disk copied), then resumed. A fan-out starts N QEMUs at once, each with the template's RAM file
 * mapped share=off (copy-on-write: the clones share its page cache, none writes it), its own overlay
 * on the template's disk and its own sockets, no host port forwards; each loads the device state,
 * `cont`s, and is timed until its guest answers a command. No agent, no CLI, no files per clone but
 * the overlay: PSS per clone is its QEMU's alone.
 */
export function qemuClones(env: MethodEnv): ForkMethod {
  const dir = join(env.home.statesDir, "qemu-clones");
  let guest: QemuGuest | undefined;
  let template: LaunchSpec | undefined;
  let clones: QemuGuest[] = [];

  const removeForks = async (): Promise<void> => {
    const running = clones;
    clones = [];
    await Promise.all(
      running.map(async (clone) => {
        clone.vm.kill();
        await clone.vm.exited;
        clone.vm.closeChannels();
      }),
    );
    await rm(join(dir, "clones"), { recursive: true, force: true });
  };

  const cloneSpec = async (from: LaunchSpec, index: number): Promise<LaunchSpec> => {
    const own = join(dir, "clones", String(index));
    await mkdir(own, { recursive: true });
    const disk = join(own, "disk.qcow2");
    await createOverlay(disk, join(dir, DISK), (await imageFacts(join(dir, DISK))).virtualSize);
    return {
      ...from,
      name: `${from.name}-clone${index}`,
      memoryPath: join(dir, RAM),
      disk,
      ports: [],
      qmpSocket: join(own, "qmp.sock"),
      guestSocket: join(own, "guest.sock"),
      consoleSocket: join(own, "console.sock"),
      consoleLog: join(own, "console.log"),
    };
  };

  return {
    kind: "fork",
    id: "qemu-clones",
    input: "qemu-file",
    counts: CLONE_COUNTS,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      if (running.kind !== "qemu" || running.vm.spec.memoryBacking !== "file") throw new Error("qemu-clones needs a raw QEMU guest with file-backed RAM");
      guest = running;
      const { vm } = running;
      await mkdir(dir, { recursive: true });
      await fsyncFile(vm.spec.memoryPath);
      await vm.qmp.execute("stop");
      try {
        await migrateOut(vm.qmp, `file:${join(dir, STATE)}`, { capabilities: ["x-ignore-shared"], timeoutMs: MIGRATION_TIMEOUT_MS });
        await run("cp", ["--sparse=always", "--reflink=auto", vm.spec.memoryPath, join(dir, RAM)]);
        // The guest is paused and QEMU flushed its disk on `stop`; -U reads past the image lock it holds.
        await run("qemu-img", ["convert", "-U", "-q", "-O", "qcow2", await realpath(vm.spec.disk), join(dir, DISK)]);
      } finally {
        await vm.qmp.execute("cont");
      }
      template = vm.spec;
    },
    async fork(count): Promise<ForkFigures> {
      if (template === undefined) throw new Error("qemu-clones: no template");
      const from = template;
      const specs = await Promise.all(Array.from({ length: count }, (_, i) => cloneSpec(from, i + 1)));
      const started = performance.now();
      const settled = await Promise.allSettled(
        specs.map((spec) => restoreRaw(env.home, spec, { uri: `file:${join(dir, STATE)}`, capabilities: ["x-ignore-shared"] }, false)),
      );
      const answered = performance.now();
      clones = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.guest] : []));
      const failed = settled.find((s) => s.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      const memory = clones.map((clone) => memoryOf(clone.vm.pid));
      const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
      const sample = clones.at(-1);
      if (sample === undefined) throw new Error("qemu-clones started no clone");
      return {
        sample,
        processes: { qemu: clones.map((clone) => clone.vm.pid), other: [] },
        restore: {
          answerMs: answered - started,
          qemuRssKiB: sum(memory.map((m) => m.rssKiB)) / count,
          qemuPssKiB: sum(memory.map((m) => m.pssKiB)) / count,
          extra: {
            processesPerFork: 1,
            totalQemuPssKiB: sum(memory.map((m) => m.pssKiB)),
          },
        },
      };
    },
    removeForks,
    async cleanup() {
      await removeForks();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
