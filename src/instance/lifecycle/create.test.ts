import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isSnapvmError, ErrorCode } from "../../errors/index.ts";
import { instancePaths, parseInstanceName } from "../../paths/index.ts";
import { createInstance } from "./create.ts";

describe("create with a cloud image", () => {
  let dir: string;
  let image: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-create-"));
    image = join(dir, "cloud.qcow2");
    // Sparse: a 3 GiB image costs nothing on disk.
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "3G"]);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes the image's size when no disk size is given and the image is larger than the default", async () => {
    const home = join(dir, "home-a");
    const name = parseInstanceName("big");
    const created = await createInstance(name, { image, home });
    assert.equal(created.config.disk.sizeBytes, 3 * 2 ** 30);
    assert.match(readFileSync(instancePaths(name, home).config, "utf8"), /size: 3G/);
  });

  it("refuses an explicit disk smaller than the image, saying how to fix it", async () => {
    await assert.rejects(createInstance(parseInstanceName("small"), { image, disk: "2G", home: join(dir, "home-b") }), (error) => {
      assert.ok(isSnapvmError(error, ErrorCode.InvalidArgument));
      assert.match(error.message, /larger than disk\.size 2G/);
      assert.match(error.hint ?? "", /--disk 3G/);
      return true;
    });
  });
});
