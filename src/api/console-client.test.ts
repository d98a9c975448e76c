import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ErrorCode } from "../errors/index.ts";
import { openAgentConsole } from "./console-client.ts";

test("an agent without /v1/console (404) gives undefined, so callers fall back; no agent at all is E_GUEST_CHANNEL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-console-client-"));
  // An older agent: plain HTTP, no upgrade handler, so the upgrade request gets its router's 404.
  const old = createServer((_request, response) => {
    response.writeHead(404).end("{}");
  });
  try {
    await new Promise<void>((resolve) => old.listen(join(dir, "agent.sock"), resolve));
    assert.equal(await openAgentConsole(join(dir, "agent.sock"), "old", () => undefined), undefined);
    await assert.rejects(
      openAgentConsole(join(dir, "nothing.sock"), "gone", () => undefined),
      { code: ErrorCode.GuestChannel },
    );
  } finally {
    old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
