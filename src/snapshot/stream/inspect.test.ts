import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { deviceStateStream } from "./fixtures/load-fixture.ts";
import { inspectStream, inspectStreamFile } from "./index.ts";
import type { JsonValue, SectionReport } from "./report.ts";

const stream = deviceStateStream();
const report = inspectStream(stream);

function section(idstr: string, instanceId = 0): SectionReport {
  const found = report.sections.find((s) => s.idstr === idstr && s.instanceId === instanceId && s.kind === "full");
  assert.ok(found, `section ${idstr}/${instanceId} is in the report`);
  return found;
}

function field(s: SectionReport, name: string): JsonValue | undefined {
  return s.fields?.[name];
}

describe("the committed QEMU 10.0.2 device-state stream", () => {
  test("header, configuration and vmdesc", () => {
    assert.equal(report.magic, "QEVM");
    assert.equal(report.version, 3);
    assert.equal(report.fileBytes, 338_031);
    assert.deepEqual(report.configuration, { offset: 8, length: 68, machineType: "pc-q35-10.0", capabilities: ["x-ignore-shared"] });
    assert.deepEqual(report.vmdesc, { present: true, offset: 293_642, sizeBytes: 44_384, devices: 31, pageSize: 4096 });
    assert.equal(report.eofOffset, 293_641);
    assert.equal(report.trailingBytes, 0);
    assert.deepEqual(report.notes, []);
    // QEMU 10 sends MIG_CMD_SWITCHOVER_START (0x0b) before the last RAM part.
    assert.deepEqual(report.commands, [{ offset: 214_496, command: 0x0b, length: 0 }]);
  });

  test("the ram section: blocks, shared guest RAM, ROM pages only", () => {
    const ram = report.ram;
    assert.ok(ram);
    assert.equal(ram.mappedRam, false);
    assert.equal(ram.ignoreShared, true);
    assert.deepEqual(
      ram.blocks.map((b) => [b.name, b.sizeBytes, b.regionAddress]),
      [
        ["mem", 64 * 1024 * 1024, "0x0"],
        ["/rom@etc/acpi/tables", 128 * 1024, "0x0"],
        ["pc.bios", 256 * 1024, "0xfffc0000"],
        ["pc.rom", 128 * 1024, "0xc0000"],
        ["/rom@etc/table-loader", 4096, "0x0"],
        ["/rom@etc/acpi/rsdp", 4096, "0x0"],
      ],
    );
    // x-ignore-shared: not one page of the 64 MiB "mem" block is in the stream.
    assert.equal(ram.blocks[0]?.pages, undefined);
    assert.equal(ram.blocks[0]?.zeroPages, undefined);
    // QEMU's query-migrate said normal: 52, duplicate: 78 for this save.
    assert.equal(ram.pages, 52);
    assert.equal(ram.zeroPages, 78);
    assert.deepEqual(
      report.sections.filter((s) => s.idstr === "ram").map((s) => [s.kind, s.offset, s.length, s.decoded]),
      [
        ["start", 76, 215, "ram"],
        ["part", 291, 214_205, "ram"],
        ["end", 214_501, 18, "ram"],
      ],
    );
  });

  test("every device section is decoded from the vmdesc and the sections tile the stream", () => {
    const devices = report.sections.filter((s) => s.kind === "full");
    assert.equal(devices.length, 31);
    assert.ok(devices.every((s) => s.decoded === "fields"));
    assert.ok(report.sections.some((s) => s.idstr === "vmgenid"));
    assert.ok(report.sections.some((s) => s.idstr === "0000:00:01.0/virtio-console"));
    // Each section (plus the one command record) ends where the next begins; the last ends at EOF.
    const records = [...report.sections.map((s) => [s.offset, s.length ?? -1] as const), [214_496, 5] as const].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < records.length; i++) {
      const [prevOffset, prevLength] = records[i - 1] ?? [0, 0];
      assert.equal(records[i]?.[0], prevOffset + prevLength);
    }
    const last = records.at(-1) ?? [0, 0];
    assert.equal(last[0] + last[1], report.eofOffset);
  });

  test("field values: a vCPU paused at the reset vector", () => {
    const cpu = section("cpu");
    assert.equal(cpu.vmsdName, "cpu");
    assert.equal(cpu.versionId, 12);
    assert.equal(field(cpu, "env.eip"), "0xfff0");
    assert.equal(field(cpu, "env.cr[0]"), "0x60000010");
    const segs = field(cpu, "env.segs");
    assert.ok(Array.isArray(segs) && segs.length === 6);
    assert.deepEqual(segs[1], { selector: 0xf000, base: "0xffff0000", limit: 0xffff, flags: 39680 });
    assert.equal(field(cpu, "env.a20_mask"), -1);
  });

  test("field values: vmgenid, globalstate, rtc, and an opaque virtio blob", () => {
    assert.deepEqual(field(section("vmgenid"), "vmgenid_addr_le"), [0, 0, 0, 0, 0, 0, 0, 0]);
    const global = section("globalstate");
    assert.deepEqual(field(global, "runstate"), { bytes: 32, hex: Buffer.alloc(32, 0).fill("prelaunch", 0, 9).toString("hex") });
    assert.deepEqual(field(global, "unused"), { bytes: 66, zero: true });
    assert.equal(field(section("mc146818rtc"), "periodic_timer"), "-0x1");
    // "int32 le" means "loaded value ≤ current", and is big-endian like every other integer.
    const lpc = section("0000:00:1f.0/ICH9LPC");
    const pci = field(lpc, "d");
    assert.ok(typeof pci === "object" && pci !== null && !Array.isArray(pci));
    assert.equal(pci["version_id"], 2);
    const virtio = field(section("0000:00:01.0/virtio-console"), "virtio");
    assert.ok(typeof virtio === "object" && virtio !== null && !Array.isArray(virtio));
    assert.equal(virtio["bytes"], 46_562);
    assert.equal(virtio["truncated"], true);
    const hex = virtio["hex"];
    assert.ok(typeof hex === "string" && hex.length === 128, "64 bytes shown as hex");
  });

  test("without its vmdesc the sections are still delimited by their footers, fields are not decoded", () => {
    const vmdescOffset = report.vmdesc.offset ?? 0;
    const bare = inspectStream(stream.subarray(0, vmdescOffset));
    assert.equal(bare.vmdesc.present, false);
    assert.equal(bare.eofOffset, report.eofOffset);
    assert.equal(bare.configuration?.machineType, "pc-q35-10.0");
    assert.equal(bare.ram?.pages, 52);
    assert.deepEqual(
      bare.sections.map((s) => [s.idstr, s.offset, s.length]),
      report.sections.map((s) => [s.idstr, s.offset, s.length]),
    );
    assert.ok(bare.sections.filter((s) => s.kind === "full").every((s) => s.decoded === "delimited" && s.fields === undefined));
    assert.deepEqual(bare.notes, [
      "the stream has no vmdesc (QEMU's suppress-vmdesc, or a truncated file): device fields are not decoded, only delimited by their footers",
    ]);
  });

  test("bytes after the vmdesc are counted as trailing", () => {
    const padded = inspectStream(Buffer.concat([stream, Buffer.from("tail")]));
    assert.equal(padded.trailingBytes, 4);
    assert.equal(padded.vmdesc.present, true);
    assert.deepEqual(padded.notes, ["4 bytes follow the end of the stream"]);
  });

  test("a vmdesc hidden from the tail scan by NUL bytes after it is still found after EOF", () => {
    const padded = inspectStream(Buffer.concat([stream, Buffer.alloc(8)]));
    assert.equal(padded.vmdesc.present, true);
    assert.equal(padded.trailingBytes, 8);
    assert.ok(padded.sections.filter((s) => s.kind === "full").every((s) => s.decoded === "fields"));
  });

  test("the report is plain JSON", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

describe("inspectStreamFile", () => {
  test("decodes the fixture from disk like the in-memory decoder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "snapvm-stream-test-"));
    try {
      const path = join(dir, "device.state");
      await writeFile(path, stream);
      assert.deepEqual(await inspectStreamFile(path), report);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("refuses a file over the cap before decoding unless it is mapped-ram, naming the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "snapvm-stream-test-"));
    try {
      const path = join(dir, "device.state");
      await writeFile(path, stream);
      await assert.rejects(inspectStreamFile(path, { maxBytes: 100_000 }), {
        name: "SnapvmError",
        code: "E_STATE_INVALID",
        message: `${path} is 338031 bytes, more than the 100000-byte cap for a stream that must be read whole; only mapped-ram streams, whose RAM is skipped by seeking, may be larger`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("decode errors name the path and keep the offset", async () => {
    const dir = await mkdtemp(join(tmpdir(), "snapvm-stream-test-"));
    try {
      const path = join(dir, "cut.state");
      await writeFile(path, stream.subarray(0, 1000));
      await assert.rejects(inspectStreamFile(path), (error: unknown) => {
        assert.ok(error instanceof Error && "details" in error);
        assert.equal(error.message, `${path}: QEMU migration stream is malformed at offset 325 (0x145): truncated: page contents needs 4096 bytes, 675 left`);
        assert.deepEqual(error.details, { offset: 325, needed: 4096, available: 675, path });
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a missing file is the caller's ENOENT, not a decode error", async () => {
    await assert.rejects(inspectStreamFile("/nonexistent/snapvm/device.state"), { code: "ENOENT" });
  });
});
