import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ensureSshKey, readPublicKey, sshKeyComment } from "./keygen.ts";

describe("ensureSshKey", () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-keygen-"));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("generates an ed25519 pair once, private to the user, and then reuses it", async () => {
    const keyPath = join(dir, "ssh", "id_ed25519");
    assert.equal(await readPublicKey(keyPath), undefined);
    const made = await ensureSshKey(keyPath, sshKeyComment("web"));
    assert.match(made, /^ssh-ed25519 \S+ snapvm-web$/);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "ssh")).mode & 0o777, 0o700);
    const before = readFileSync(keyPath, "utf8");
    assert.equal(await ensureSshKey(keyPath, "other"), made);
    assert.equal(readFileSync(keyPath, "utf8"), before);
  });
});
