import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { SnapvmError } from "../../errors/index.ts";
import { StreamBuilder } from "./fixtures/build-stream.ts";
import { deviceStateStream } from "./fixtures/load-fixture.ts";
import { inspectStream, type InspectOptions } from "./inspect.ts";

const PREFIX = "QEMU migration stream is malformed at offset";
const LIMIT = "QEMU migration stream exceeds a decoder limit at offset";

/** Asserts the decoder refuses `input` with StateInvalid, this exact message, and the offset in details. */
function rejects(input: Buffer, message: string | RegExp, offset: number, options: InspectOptions = {}): void {
  assert.throws(
    () => inspectStream(input, options),
    (error: unknown) => {
      assert.ok(error instanceof SnapvmError, `a SnapvmError, got ${String(error)}`);
      assert.equal(error.code, "E_STATE_INVALID");
      if (typeof message === "string") assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.equal(error.details["offset"], offset);
      return true;
    },
  );
}

/** A one-device stream: header, configuration, FULL section "dev" with a uint32 and a uint64, footer, EOF, vmdesc. */
function oneDevice(edit: (b: StreamBuilder) => void = () => undefined, vmdesc?: unknown): Buffer {
  const b = new StreamBuilder().header().configuration("pc-q35-10.0").fullSection(2, "dev", 0, 1);
  edit(b);
  return b
    .eof()
    .vmdesc(vmdesc ?? { page_size: 4096, devices: [{ name: "dev", instance_id: 0, vmsd_name: "dev", version: 1, fields: DEV_FIELDS }] })
    .build();
}
const DEV_FIELDS = [
  { name: "a", type: "uint32", size: 4 },
  { name: "b", type: "uint64", size: 8 },
];

describe("well-formed synthetic streams", () => {
  test("a minimal device section decodes", () => {
    const report = inspectStream(oneDevice((b) => b.be32(7).be64(0x1_0000_0000n).footer(2)));
    assert.deepEqual(report.sections, [
      {
        id: 2,
        idstr: "dev",
        instanceId: 0,
        versionId: 1,
        kind: "full",
        offset: 24,
        decoded: "fields",
        vmsdName: "dev",
        fields: { a: 7, b: "0x100000000" },
        length: 34,
      },
    ]);
  });

  test("subsections, structs, uncompressed arrays and capabilities", () => {
    const vmdesc = {
      devices: [
        {
          name: "dev",
          instance_id: 0,
          vmsd_name: "dev",
          version: 1,
          fields: [
            { name: "r", index: 0, type: "uint16", size: 2 },
            { name: "r", index: 1, type: "uint16", size: 2 },
            { name: "s", type: "struct", struct: { vmsd_name: "inner", version: 1, fields: [{ name: "x", type: "int8", size: 1 }] }, size: 1 },
            { name: "f", type: "bool", size: 1 },
          ],
          subsections: [{ vmsd_name: "dev/extra", version: 2, fields: [{ name: "c", type: "capability", size: 5, array_len: 2 }] }],
        },
      ],
    };
    const stream = oneDevice((b) => b.be16(1).be16(2).u8(0xff).u8(1).u8(0x05).str8("dev/extra").be32(2).str8("x-one").str8("two").footer(2), vmdesc);
    assert.deepEqual(inspectStream(stream).sections[0]?.fields, { r: [1, 2], s: { x: -1 }, f: true, "dev/extra": { c: ["x-one", "two"] } });
  });
});

describe("malformed input is refused with StateInvalid, the offset, and what was wrong", () => {
  test("empty input", () => {
    rejects(Buffer.alloc(0), `${PREFIX} 0 (0x0): truncated: file magic needs 4 bytes, 0 left`, 0);
  });

  test("bad magic", () => {
    rejects(Buffer.from("NOTQEMU!"), `${PREFIX} 0 (0x0): bad magic 0x4e4f5451; expected 0x5145564d ("QEVM")`, 0);
  });

  test("bad magic that is a compressed stream says so", () => {
    rejects(
      gzipSync(deviceStateStream()),
      /^QEMU migration stream is malformed at offset 0 \(0x0\): bad magic 0x1f8b[0-9a-f]{4}: this looks like a gzip file \(decompress it first\); expected 0x5145564d \("QEVM"\)$/,
      0,
    );
  });

  test("unsupported version", () => {
    rejects(new StreamBuilder().be32(0x5145564d).be32(2).build(), `${PREFIX} 4 (0x4): unsupported stream version 2; this decoder reads version 3`, 4);
  });

  test("unknown section type", () => {
    rejects(new StreamBuilder().header().configuration("pc").u8(0x42).build(), `${PREFIX} 15 (0xf): unknown section type 0x42`, 15);
  });

  test("truncated inside a device section: its vmdesc is gone, and so is its footer", () => {
    const stream = oneDevice((b) => b.be32(7).be64(1n).footer(2).fullSection(3, "dev", 1, 1).be32(7).be64(1n).footer(3));
    rejects(stream.subarray(0, 85), `${PREFIX} 58 (0x3a): truncated: section dev (id 3) has no layout and no footer before the end of the stream`, 58);
  });

  test("a first section with neither layout nor footer ends the walk with a note, not a guess", () => {
    const report = inspectStream(new StreamBuilder().header().fullSection(2, "dev", 0, 1).be32(7).eof().build());
    assert.equal(report.eofOffset, null);
    assert.deepEqual(report.sections, [{ id: 2, idstr: "dev", instanceId: 0, versionId: 1, kind: "full", offset: 8, decoded: "no" }]);
    assert.deepEqual(report.notes, [
      "section dev (id 2) at offset 8 has no layout (no vmdesc) and no footer to find its end; the walk stopped there",
      "the stream has no vmdesc (QEMU's suppress-vmdesc, or a truncated file): device fields are not decoded, only delimited by their footers",
    ]);
  });

  test("stream ends without EOF", () => {
    rejects(new StreamBuilder().header().configuration("pc").build(), `${PREFIX} 15 (0xf): truncated: section type needs 1 bytes, 0 left`, 15);
  });

  test("footer carrying another section's id", () => {
    rejects(
      oneDevice((b) => b.be32(7).be64(1n).footer(3)),
      `${PREFIX} 53 (0x35): footer carries section id 3, expected 2 (dev)`,
      53,
    );
  });

  test("a vmdesc layout shorter than the section: no footer where earlier sections had one", () => {
    const vmdesc = {
      devices: [
        { name: "dev", instance_id: 0, vmsd_name: "dev", version: 1, fields: DEV_FIELDS },
        { name: "dev2", instance_id: 0, vmsd_name: "dev2", version: 1, fields: [{ name: "a", type: "uint32", size: 4 }] },
      ],
    };
    const stream = oneDevice((b) => b.be32(7).be64(1n).footer(2).fullSection(3, "dev2", 0, 1).be32(7).be32(0xaa).footer(3), vmdesc);
    rejects(stream, `${PREFIX} 80 (0x50): section dev2 (id 3) ends without the footer earlier sections have`, 80);
  });

  test("part of a section that never started", () => {
    rejects(new StreamBuilder().header().u8(0x02).be32(9).build(), `${PREFIX} 8 (0x8): part of section id 9, which never started`, 8);
  });

  test("the same section id started twice", () => {
    const stream = oneDevice((b) => b.be32(7).be64(1n).footer(2).fullSection(2, "dev", 0, 1).be32(7).be64(1n).footer(2));
    rejects(stream, `${PREFIX} 58 (0x3a): section id 2 started twice`, 58);
  });

  test("configuration after a section", () => {
    rejects(
      oneDevice((b) => b.be32(7).be64(1n).footer(2).configuration("pc")),
      `${PREFIX} 58 (0x3a): configuration record after the first section`,
      58,
    );
  });

  test("unknown configuration subsection without a vmdesc layout", () => {
    const stream = new StreamBuilder().header().u8(0x07).be32(2).raw(Buffer.from("pc")).u8(0x05).str8("configuration/new").be32(1).eof().build();
    rejects(stream, `${PREFIX} 15 (0xf): unknown configuration subsection "configuration/new" and no vmdesc layout for it`, 15);
  });

  test("subsection other than the vmdesc says", () => {
    const vmdesc = {
      devices: [{ name: "dev", instance_id: 0, vmsd_name: "dev", version: 1, fields: [], subsections: [{ vmsd_name: "dev/a", version: 1, fields: [] }] }],
    };
    rejects(
      oneDevice((b) => b.u8(0x05).str8("dev/b").be32(1).footer(2), vmdesc),
      `${PREFIX} 41 (0x29): expected subsection dev/a of dev, found "dev/b"`,
      41,
    );
  });

  test("struct whose fields disagree with its described size", () => {
    const vmdesc = {
      devices: [
        {
          name: "dev",
          instance_id: 0,
          vmsd_name: "dev",
          version: 1,
          fields: [{ name: "s", type: "struct", struct: { vmsd_name: "in", version: 1, fields: [{ name: "x", type: "uint8", size: 1 }] }, size: 4 }],
        },
      ],
    };
    rejects(
      oneDevice((b) => b.be32(0).footer(2), vmdesc),
      `${PREFIX} 41 (0x29): struct s (in) is described as 4 bytes but its fields took 1`,
      41,
    );
  });

  test("vmdesc JSON not parseable", () => {
    const stream = new StreamBuilder().header().eof().vmdesc("{not json}").build();
    rejects(stream, /^QEMU migration stream is malformed at offset 14 \(0xe\): vmdesc JSON is not parseable: .+/, 14);
  });

  test("vmdesc without a devices array", () => {
    rejects(new StreamBuilder().header().eof().vmdesc({ devices: 5 }).build(), `${PREFIX} 14 (0xe): vmdesc document has no devices array`, 14);
  });

  test("vmdesc field with a bad size", () => {
    const vmdesc = { devices: [{ name: "dev", instance_id: 0, fields: [{ name: "a", type: "uint8", size: -1 }] }] };
    rejects(
      new StreamBuilder().header().eof().vmdesc(vmdesc).build(),
      `${PREFIX} 14 (0xe): vmdesc devices[0].fields[0].size is -1, not an integer in 0..2147483647`,
      14,
    );
  });

  test("bad vmdesc length", () => {
    const stream = new StreamBuilder().header().eof().u8(0x06).be32(1000).raw(Buffer.from("{}")).build();
    rejects(stream, `${PREFIX} 10 (0xa): bad length: vmdesc JSON claims 1000 bytes, 2 left`, 10);
  });

  test("a vmdesc record that is not where the stream's EOF is", () => {
    const stream = new StreamBuilder().header().eof().raw(Buffer.from("junk")).eof().vmdesc({ devices: [] }).build();
    rejects(stream, `${PREFIX} 9 (0x9): the stream ends at its EOF marker at 8, but the vmdesc record was found at 14`, 9);
  });
});

describe("limits", () => {
  test("input larger than maxBytes", () => {
    rejects(deviceStateStream(), `${LIMIT} 0 (0x0): limit exceeded: stream is 338031 bytes (limit 1000)`, 0, { maxBytes: 1000 });
  });

  test("section count", () => {
    rejects(deviceStateStream(), `${LIMIT} 214519 (0x345f7): limit exceeded: section records (limit 4)`, 214_519, { limits: { maxSections: 4 } });
  });

  test("decoded values", () => {
    rejects(
      deviceStateStream(),
      /^QEMU migration stream exceeds a decoder limit at offset \d+ \(0x[0-9a-f]+\): limit exceeded: decoded field values \(limit 100\)$/,
      215_017,
      { limits: { maxValues: 100 } },
    );
  });

  test("ram blocks", () => {
    rejects(deviceStateStream(), `${LIMIT} 158 (0x9e): limit exceeded: RAM blocks (limit 2)`, 158, { limits: { maxRamBlocks: 2 } });
  });

  test("vmdesc JSON nesting depth", () => {
    const deep = `{"devices":[${"[".repeat(300)}${"]".repeat(300)}]}`;
    rejects(new StreamBuilder().header().eof().vmdesc(deep).build(), `${LIMIT} 280 (0x118): limit exceeded: vmdesc JSON nesting depth (limit 256)`, 280);
  });

  test("VMState struct nesting depth", () => {
    let struct: unknown = { vmsd_name: "leaf", version: 1, fields: [] };
    for (let i = 0; i < 40; i++) struct = { vmsd_name: `s${i}`, version: 1, fields: [{ name: "f", type: "struct", size: 0, struct }] };
    const vmdesc = { devices: [{ name: "dev", instance_id: 0, ...(struct as object) }] };
    rejects(
      new StreamBuilder().header().eof().vmdesc(vmdesc).build(),
      /^QEMU migration stream exceeds a decoder limit at offset 14 \(0xe\): limit exceeded: vmdesc devices\[0\](\.fields\[0\]\.struct)+ nests structs too deeply \(limit 32\)$/,
      14,
    );
  });

  test("name length", () => {
    const vmdesc = { devices: [{ name: "d".repeat(2000), instance_id: 0, fields: [] }] };
    rejects(
      new StreamBuilder().header().eof().vmdesc(vmdesc).build(),
      `${LIMIT} 14 (0xe): limit exceeded: vmdesc devices[0].name is 2000 characters long (limit 1024)`,
      14,
    );
  });

  test("vmdesc size", () => {
    rejects(deviceStateStream(), `${LIMIT} 293643 (0x47b0b): limit exceeded: vmdesc JSON is 44384 bytes (limit 1000)`, 293_643, {
      limits: { maxVmdescBytes: 1000 },
    });
  });
});

describe("sections the vmdesc does not describe", () => {
  test("are delimited by their footer and noted", () => {
    const stream = oneDevice((b) => b.be32(7).be64(1n).footer(2).fullSection(3, "other", 0, 1).be32(0xdead).footer(3));
    const report = inspectStream(stream);
    assert.deepEqual(report.sections[1], { id: 3, idstr: "other", instanceId: 0, versionId: 1, kind: "full", offset: 58, decoded: "delimited", length: 28 });
    assert.deepEqual(report.notes, ["section other (id 3, full) has no layout in the vmdesc: delimited by its footer, not decoded"]);
  });
});
