import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../../errors/index.ts";
import type { RamBlockReport, StreamReport } from "../../snapshot/stream/index.ts";
import { checkStreamFits, streamCapabilities } from "./stream-fit.ts";

const MiB = 1024 * 1024;

function report(
  overrides: { machineType?: string; capabilities?: string[]; blocks?: RamBlockReport[]; mappedRam?: boolean; noRam?: boolean; noConfig?: boolean } = {},
): StreamReport {
  const capabilities = overrides.capabilities ?? [];
  return {
    magic: "QEVM",
    version: 3,
    fileBytes: 1000,
    configuration: overrides.noConfig === true ? null : { offset: 8, length: 60, machineType: overrides.machineType ?? "pc-q35-10.0", capabilities },
    sections: [],
    ...(overrides.noRam === true
      ? {}
      : {
          ram: {
            pageSize: 4096,
            mappedRam: overrides.mappedRam ?? false,
            ignoreShared: capabilities.includes("x-ignore-shared"),
            blocks: overrides.blocks ?? [
              { name: "mem", sizeBytes: 256 * MiB },
              { name: "pc.bios", sizeBytes: 256 * 1024 },
            ],
            pages: 10,
            zeroPages: 5,
          },
        }),
    vmdesc: { present: true, sizeBytes: 100, devices: 30 },
    eofOffset: 900,
    trailingBytes: 0,
    notes: [],
  };
}

function refused(r: StreamReport, memoryBytes: number, pattern: RegExp): void {
  assert.throws(
    () => checkStreamFits(r, memoryBytes, "/s/STATE"),
    (e) => {
      assert.ok(isSnapvmError(e, "E_STATE_INCOMPATIBLE"), String(e));
      assert.match(e.message, /^\/s\/STATE cannot be imported: /);
      assert.match(e.message, pattern);
      assert.notEqual(e.hint, undefined);
      return true;
    },
  );
}

describe("checkStreamFits", () => {
  it("accepts a full stream whose block mem has the arguments' size, and says which capabilities load it", () => {
    assert.deepEqual(checkStreamFits(report(), 256 * MiB, "/s/STATE"), { mappedRam: false });
    assert.deepEqual(checkStreamFits(report({ capabilities: ["mapped-ram"], mappedRam: true }), 256 * MiB, "/s/STATE"), { mappedRam: true });
    assert.deepEqual(streamCapabilities({ mappedRam: true }), ["mapped-ram", "multifd"]);
  });

  it("refuses a size mismatch, naming both sizes", () => {
    refused(report(), 320 * MiB, /its RAM block "mem" is 256M, the QEMU arguments give 320M$/);
  });

  it("refuses a stream without a mem block (plain -m RAM is pc.ram), listing its blocks", () => {
    refused(
      report({
        blocks: [
          { name: "pc.ram", sizeBytes: 512 * MiB },
          { name: "pc.bios", sizeBytes: 256 * 1024 },
        ],
      }),
      512 * MiB,
      /its RAM blocks are pc\.ram \(512M\), pc\.bios \(256K\); snapvm's guest RAM is the block "mem"/,
    );
  });

  it("refuses device-state-only streams, other machines, and streams without RAM or configuration", () => {
    refused(report({ capabilities: ["x-ignore-shared"] }), 256 * MiB, /device state only \(saved with x-ignore-shared\)/);
    refused(report({ machineType: "pc-i440fx-10.0" }), 256 * MiB, /saved from machine pc-i440fx-10\.0; snapvm runs q35/);
    refused(report({ noRam: true }), 256 * MiB, /it has no RAM section/);
    refused(report({ noConfig: true }), 256 * MiB, /no configuration record/);
  });
});
