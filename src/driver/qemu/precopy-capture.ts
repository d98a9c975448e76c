import { mkdtemp, rm } from "node:fs/promises";
import { captureSockets, scratchDirPrefix } from "../../paths/index.ts";
import { relocateSockets } from "../../config/launch-spec.ts";
import { migrateOut, setCapabilities, waitForMigration } from "./migrate.ts";
import { precopySwitchover } from "./precopy-switchover.ts";
import { QemuVm } from "./vm.ts";
import { failPoint } from "../../util/fault-point.ts";
import { fsyncFile } from "../../util/fsync.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import type { CaptureTarget } from "../driver.ts";

/**
 * Live snapshot memory for filesystems without reflink (ext4) and for anonymous RAM: a pre-copy
 * migration from the running VM into a second, never-started QEMU (`-S`) whose RAM is the
 * snapshot's own file. The guest runs while RAM is copied and stops only for the last dirty pages
 * (downtime-limit) — with pause-before-switchover holding it there while `diskLeg` freezes the disk,
 * so disk and memory match. The source then resumes; the receiver saves the device state
 * (x-ignore-shared: its RAM file already holds the memory) and quits, all outside the pause.
 * Returns the guest's pause in ms, from QEMU's STOP event to our `cont`.
 * On failure the migration is cancelled and the guest left running; the caller removes the files.
 */
export async function precopyCapture(
  vm: QemuVm,
  launch: PinnedLaunch,
  target: CaptureTarget,
  diskLeg: () => Promise<void>,
  timeoutMs: number,
): Promise<number> {
  // Sockets in a short temp dir: the snapshot's own path may be too long for a unix socket.
  const sockets = await mkdtemp(scratchDirPrefix("capture"));
  const { migration: migrationSocket, ...receiverSockets } = captureSockets(sockets);
  const receiverSpec = relocateSockets(
    {
      ...launch.spec,
      name: `${launch.spec.name}-capture`,
      memoryBacking: "file",
      memoryPath: target.memory,
      // No host forwards: the source holds those ports; user-mode networking loads without them.
      ports: [],
      guestAccess: { kind: "agent" },
    },
    receiverSockets,
  );
  const migration = `unix:${migrationSocket}`;
  let receiver: QemuVm | undefined;
  try {
    receiver = await QemuVm.start(receiverSpec, { incoming: true, frozen: true, shareMemory: true });
    // The receiver must never take the disk's locks: the source keeps writing it after the snapshot.
    await setCapabilities(receiver.qmp, ["late-block-activate"]);
    await receiver.qmp.execute("migrate-incoming", { uri: migration });

    const pauseMs = await precopySwitchover(vm, migration, diskLeg, timeoutMs);

    await failPoint("snapshot:memory-leg");
    await waitForMigration(receiver.qmp, "receiving the memory", timeoutMs);
    await migrateOut(receiver.qmp, `file:${target.deviceState}`, { capabilities: ["x-ignore-shared"], timeoutMs });
    await receiver.quit();
    await fsyncFile(target.memory);
    return pauseMs;
  } finally {
    receiver?.kill();
    await receiver?.exited;
    await rm(sockets, { recursive: true, force: true });
  }
}
