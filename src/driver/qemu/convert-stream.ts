import type { ConvertFigures, ConvertInput } from "../driver.ts";
import { migrateOut, setCapabilities, waitForMigration } from "./migrate.ts";
import { streamCapabilities } from "./stream-fit.ts";
import { QemuVm } from "./vm.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** A load writes every page into the shared file mapping, ~4 s/GiB here (DESIGN.md §3a); allow 20 MiB/s. */
function loadTimeoutMs(streamBytes: number): number {
  return 60_000 + (streamBytes / (20 * 1024 * 1024)) * 1000;
}

/**
 * DESIGN.md §3a's conversion of a full-RAM stream into a lazily restorable state:
 *   1. start QEMU from `spec` (RAM a share=on file) with `-incoming defer` and `-S`: the guest never
 *      runs, so RAM and disk stay exactly as the stream left them (no `cont`, ever);
 *   2. migrate-incoming the stream (a file, or a unix socket its writer connects to once QEMU listens) with
 *      its own capabilities: every page lands in the RAM file;
 *   3. save device state only (x-ignore-shared) to `deviceStateFile`; quit.
 * QEMU is killed on any failure, with its own last words in the error; the caller removes files.
 */
export async function convertStream(input: ConvertInput): Promise<ConvertFigures> {
  const vm = await QemuVm.start(input.spec, { incoming: true, frozen: true });
  try {
    const loadStarted = performance.now();
    await setCapabilities(vm.qmp, streamCapabilities(input.layout));
    // exit-on-error off: a stream QEMU rejects leaves QEMU up, so query-migrate can say why.
    const uri = `${input.fromSocket === true ? "unix" : "file"}:${input.rawStream}`;
    await vm.qmp.execute("migrate-incoming", { uri, "exit-on-error": false });
    await waitForMigration(vm.qmp, `loading ${input.rawStream}`, loadTimeoutMs(input.streamBytes), 20);
    const loadMs = performance.now() - loadStarted;
    // A stream saved from a running guest would autostart it; -S prevents that, this makes sure.
    if ((await vm.qmp.execute("query-status")).running) await vm.qmp.execute("stop");
    const saveStarted = performance.now();
    await migrateOut(vm.qmp, `file:${input.deviceStateFile}`, { capabilities: ["x-ignore-shared"], timeoutMs: 60_000 });
    const saveMs = performance.now() - saveStarted;
    await vm.quit();
    return { version: vm.version, loadMs, saveMs };
  } catch (error) {
    vm.kill();
    const exit = await vm.exited;
    throw new SnapvmError(ErrorCode.QemuFailed, `converting the stream failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "QEMU refused the stream: it must come from the same QEMU version and the exact arguments given.",
      cause: error,
      details: { qemu: exit.reason },
    });
  } finally {
    vm.closeChannels();
  }
}
