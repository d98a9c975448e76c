import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCommand } from "../util/run-command.ts";
import { writeCidataIso } from "./iso.ts";

describe("writeCidataIso", () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-cidata-"));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a `cidata` ISO with the files under their own names, and nothing beside it", async () => {
    const iso = join(dir, "cidata.iso");
    await writeCidataIso(iso, { "meta-data": "instance-id: x\n", "user-data": "#cloud-config\n", "network-config": "version: 2\n" });
    assert.deepEqual(readdirSync(dir), ["cidata.iso"], "the staging directory is removed");
    const toc = await runCommand("xorriso", ["-indev", iso, "-pvd_info"]);
    assert.match(toc.stdout + toc.stderr, /Volume Id\s*:\s*cidata\b/);
    const out = join(dir, "extracted");
    await runCommand("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", out]);
    assert.deepEqual(readdirSync(out).sort(), ["meta-data", "network-config", "user-data"]);
    assert.equal(readFileSync(join(out, "user-data"), "utf8"), "#cloud-config\n");
  });

  it("replaces an existing ISO", async () => {
    const iso = join(dir, "again.iso");
    await writeCidataIso(iso, { "meta-data": "instance-id: one\n" });
    await writeCidataIso(iso, { "meta-data": "instance-id: two\n" });
    const out = join(dir, "again");
    await runCommand("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", out]);
    assert.equal(readFileSync(join(out, "meta-data"), "utf8"), "instance-id: two\n");
  });
});
