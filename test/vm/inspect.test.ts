import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StateInspection } from "../../src/instance/snapshots/inspect.ts";
import { TestHome } from "./harness.ts";

describe("inspecting saved states", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("snapshot inspect decodes a live snapshot's device state; inspect-state reads a suspend state and refuses a truncated copy; a disk-only snapshot has no stream", async () => {
    await home.ok(["create", "ins", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "ins"]);
    await home.ok(["snapshot", "create", "ins", "t1"]);

    const started = performance.now();
    const inspected = await home.json<StateInspection>(["snapshot", "inspect", "ins", "t1"]);
    const inspectMs = performance.now() - started;
    const r = inspected.report;
    assert.deepEqual(inspected.origin, { kind: "snapshot", instance: "ins", tag: "t1" });
    assert.equal(inspected.role, "device-state");
    assert.ok(r.configuration !== null);
    assert.ok(r.configuration.machineType.startsWith("pc-q35-"), r.configuration.machineType);
    assert.ok(r.configuration.capabilities.includes("x-ignore-shared"));
    const idstrs = r.sections.map((s) => s.idstr);
    assert.ok(idstrs.includes("vmgenid"), idstrs.join(" "));
    assert.ok(
      idstrs.some((s) => /virtio-(serial|console)/.test(s)),
      idstrs.join(" "),
    );
    assert.deepEqual(r.ram?.blocks.find((b) => b.name === "mem")?.sizeBytes, 256 * 1024 * 1024);
    assert.equal(r.vmdesc.present, true);
    console.log(`# snapshot inspect --json: ${inspectMs.toFixed(0)} ms for ${r.fileBytes} bytes, ${r.sections.length} records`);

    const text = await home.ok(["snapshot", "inspect", "ins", "t1"]);
    assert.match(text, /^file: .*devices\.state .*snapshot ins@t1, role device-state$/m);
    assert.match(text, /^stream: +QEVM version 3, machine pc-q35-\d+\.\d+$/m);
    assert.match(text, /capabilities: x-ignore-shared/);
    assert.match(text, /│ mem +│ 256 MiB/);
    assert.match(text, /│ vmgenid +│/);
    assert.match(text, /^vmdesc: +present, \d+ devices/m);

    await home.ok(["stop", "ins"]);
    const suspend = join(home.instanceDir("ins"), "suspend");
    const state = await home.json<StateInspection>(["inspect-state", suspend]);
    assert.deepEqual(state.origin, { kind: "state-dir", dir: suspend, stateKind: "suspend" });
    assert.ok(state.report.sections.some((s) => s.idstr === "vmgenid"));

    const truncated = join(home.dir, "truncated.state");
    const whole = readFileSync(join(suspend, "devices.state"));
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const result = await home.run(["inspect-state", truncated]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^snapvm: ${truncated}: QEMU migration stream is malformed at offset \\d+ \\(0x[0-9a-f]+\\): truncated: .* needs \\d+ bytes, \\d+ left \\[E_STATE_INVALID\\]\\n  hint: The device-state file is damaged, truncated`,
      ),
    );
    const json = JSON.parse((await home.run(["inspect-state", truncated, "--json"])).stdout) as {
      error: { code: string; details: { path: string; offset: number } };
    };
    assert.equal(json.error.code, "E_STATE_INVALID");
    assert.equal(json.error.details.path, truncated);
    assert.ok(json.error.details.offset > 0 && json.error.details.offset < whole.length);

    // A snapshot of a shut-down instance has a disk layer only.
    await home.ok(["start", "ins"]);
    await home.ok(["stop", "--no-save", "ins"]);
    await home.ok(["snapshot", "create", "ins", "disk"]);
    const diskOnly = await home.run(["snapshot", "inspect", "ins", "disk"]);
    assert.match(diskOnly.stderr, /snapshot ins@disk holds no QEMU stream: it is a disk-only snapshot of a shut-down instance \[E_INVALID_ARGUMENT\]/);
    const missing = await home.run(["snapshot", "inspect", "ins", "nope"]);
    assert.match(missing.stderr, /instance "ins" has no snapshot "nope" \[E_INVALID_ARGUMENT\]/);
    await home.ok(["delete", "--force", "ins"]);
  });
});
