/**
 * Streams too large to commit, made at run time by the installed QEMU (paused with -S: no guest
 * runs, nothing boots). Skipped, saying why, where qemu-system-x86_64 is absent.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { QEMU_BINARY, makeStream } from "./fixtures/make-fixtures.ts";
import { inspectStreamFile } from "./index.ts";
import type { StreamReport } from "./report.ts";

const qemuFound = spawnSync(QEMU_BINARY, ["--version"], { stdio: "ignore" }).status === 0;
const skip = qemuFound ? false : `${QEMU_BINARY} is not installed: the full, mapped-ram and suppress-vmdesc streams are made by QEMU at run time`;
const MIB = 1024 * 1024;

function assertDevicesDecoded(report: StreamReport): void {
  const devices = report.sections.filter((s) => s.kind === "full");
  assert.ok(devices.length > 20);
  assert.ok(
    devices.every((s) => s.decoded === "fields"),
    "every device section decoded from the vmdesc",
  );
  assert.ok(devices.some((s) => s.idstr === "vmgenid"));
  assert.ok(devices.some((s) => s.idstr.endsWith("/virtio-console")));
  assert.equal(report.vmdesc.devices, devices.length);
  assert.equal(report.trailingBytes, 0);
}

describe("streams made by the installed QEMU", { skip }, () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "snapvm-qemu-streams-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("full stream, anonymous RAM: every page of pc.ram is in it", { timeout: 60_000 }, async () => {
    const path = join(dir, "full.state");
    await makeStream(path, "full");
    const report = await inspectStreamFile(path);
    assert.match(report.configuration?.machineType ?? "", /^pc-q35-\d+\.\d+$/);
    assert.deepEqual(report.configuration?.capabilities, []);
    const pcRam = report.ram?.blocks.find((b) => b.name === "pc.ram");
    assert.equal(pcRam?.sizeBytes, 64 * MIB);
    assert.equal(pcRam.regionAddress, undefined);
    // A guest that never ran: each of its 16384 pages is sent once, as a zero page or with contents.
    assert.equal((pcRam.pages ?? 0) + (pcRam.zeroPages ?? 0), 16_384);
    assertDevicesDecoded(report);
  });

  test("mapped-ram + multifd: RAM at fixed offsets, decoded while reading a fraction of the file", { timeout: 60_000 }, async () => {
    const path = join(dir, "mapped.state");
    await makeStream(path, "mapped-ram");
    const { size } = await stat(path);
    assert.ok(size > 64 * MIB);
    // 4 MiB of reads for a 70 MiB file: guest pages are seeked over, never read.
    const report = await inspectStreamFile(path, { maxBytes: 4 * MIB });
    assert.deepEqual(report.configuration?.capabilities, ["mapped-ram"]);
    assert.equal(report.ram?.mappedRam, true);
    const pcRam = report.ram.blocks.find((b) => b.name === "pc.ram");
    assert.equal(pcRam?.sizeBytes, 64 * MIB);
    assert.equal((pcRam.mappedRam?.pagesOffset ?? 1) % MIB, 0, "pages are aligned to 1 MiB in the file");
    assert.equal(pcRam.mappedRam?.pagesInFile, 0, "zero pages are not written with mapped-ram");
    assert.ok(
      report.ram.blocks.some((b) => (b.mappedRam?.pagesInFile ?? 0) > 0),
      "ROM blocks have pages",
    );
    assertDevicesDecoded(report);
  });

  test("suppress-vmdesc: sections delimited by footers, fields not decoded", { timeout: 60_000 }, async () => {
    const path = join(dir, "bare.state");
    await makeStream(path, "no-vmdesc");
    const report = await inspectStreamFile(path);
    assert.equal(report.vmdesc.present, false);
    assert.deepEqual(report.configuration?.capabilities, ["x-ignore-shared"]);
    assert.equal(report.ram?.blocks[0]?.name, "mem");
    const devices = report.sections.filter((s) => s.kind === "full");
    assert.ok(devices.length > 20 && devices.every((s) => s.decoded === "delimited" && s.length !== undefined));
    assert.ok(devices.some((s) => s.idstr === "vmgenid"));
    assert.notEqual(report.eofOffset, null);
    assert.equal(report.notes.length, 1);
  });

  test("device state, x-ignore-shared: the shape of the committed fixture", { timeout: 60_000 }, async () => {
    const path = join(dir, "device.state");
    await makeStream(path, "device-state");
    const report = await inspectStreamFile(path);
    assert.ok(report.fileBytes < MIB);
    assert.deepEqual(report.configuration?.capabilities, ["x-ignore-shared"]);
    assert.deepEqual(report.ram?.blocks[0], { name: "mem", sizeBytes: 64 * MIB, regionAddress: "0x0" });
    assertDevicesDecoded(report);
  });
});
