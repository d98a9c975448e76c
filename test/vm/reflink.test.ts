import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestHome } from "./harness.ts";

/** An XFS filesystem with reflink on a loop device: where the live snapshot reflinks the RAM file. */
class XfsMount {
  readonly dir = mkdtempSync(join(tmpdir(), "snapvm-xfs-"));
  readonly image = join(this.dir, "xfs.img");
  readonly mountPoint = join(this.dir, "mnt");

  mount(): void {
    mkdirSync(this.mountPoint);
    execFileSync("truncate", ["-s", "3G", this.image]);
    execFileSync("mkfs.xfs", ["-q", "-m", "reflink=1", this.image]);
    execFileSync("mount", ["-o", "loop", this.image, this.mountPoint]);
  }

  unmount(): void {
    try {
      execFileSync("umount", [this.mountPoint]);
    } catch {
      /* not mounted */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("live snapshots on a reflink filesystem (XFS loop mount)", () => {
  const xfs = new XfsMount();
  let home: TestHome;
  before(() => {
    xfs.mount();
    home = new TestHome(xfs.mountPoint);
  });
  after(async () => {
    await home.cleanup();
    xfs.unmount();
  });

  test("the RAM file is reflinked while paused and the snapshot restores intact", async () => {
    await home.ok(["create", "xfs", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "xfs"]);
    const sum = await home.ok(["exec", "xfs", "--", "dd if=/dev/urandom of=/tmp/m bs=1M count=64 2>/dev/null; md5sum /tmp/m"]);
    const snap = await home.json<{ memoryCopy: string; pauseMs: number }>(["snapshot", "create", "xfs", "r1"]);
    assert.equal(snap.memoryCopy, "reflink");
    await home.ok(["exec", "xfs", "--", "rm /tmp/m"]);
    await home.ok(["snapshot", "restore", "xfs", "r1"]);
    assert.equal(await home.ok(["exec", "xfs", "--", "md5sum /tmp/m"]), sum);
    await home.ok(["delete", "--force", "xfs"]);
  });
});
