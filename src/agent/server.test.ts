import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiPaths } from "../api/paths.ts";
import type { AgentStatus } from "../api/schemas.ts";
import { buildApp, MAX_EXEC_BODY_BYTES, MAX_REQUEST_BODY_BYTES, type AgentHandlers } from "./server.ts";

/** Handlers that record what reached them; nothing here boots a VM. */
function fakeHandlers(reached: string[]): AgentHandlers {
  return {
    status: () => ({}) as AgentStatus,
    exec: (request) => {
      reached.push(`exec ${request.command.length}`);
      return Promise.resolve({ exitCode: 0, stdoutBase64: "", stderrBase64: "" });
    },
    stop: () => {
      reached.push("stop");
      return Promise.reject(new Error("not in this test"));
    },
    save: () => {
      reached.push("save");
      return Promise.reject(new Error("not in this test"));
    },
    patchConfig: () => {
      reached.push("patchConfig");
      throw new Error("not in this test");
    },
    snapshot: () => {
      reached.push("snapshot");
      return Promise.reject(new Error("not in this test"));
    },
    streamSnapshot: (request) => {
      reached.push(`streamSnapshot ${request.socket}`);
      return Promise.resolve({ tag: request.tag, diskLayer: request.diskLayer, pauseMs: 1, totalMs: 2 });
    },
    migrate: () => {
      reached.push("migrate");
      return Promise.reject(new Error("not in this test"));
    },
    resumeMigration: () => {
      reached.push("resumeMigration");
      return Promise.reject(new Error("not in this test"));
    },
    finishMigration: () => {
      reached.push("finishMigration");
      return Promise.reject(new Error("not in this test"));
    },
  };
}

function post(path: string, body: string, chunked = false): Request {
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers: { "content-type": "application/json" } };
  if (chunked) {
    // No content-length: the cap must hold while the body streams in, too.
    const bytes = new TextEncoder().encode(body);
    init.body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65536) controller.enqueue(bytes.subarray(i, i + 65536));
        controller.close();
      },
    });
    init.duplex = "half";
  } else init.body = body;
  return new Request(`http://agent${path}`, init);
}

describe("agent API body cap", () => {
  for (const chunked of [false, true]) {
    it(`answers an oversized body 413 with E_INPUT_TOO_LARGE before any handler runs${chunked ? " (chunked)" : ""}`, async () => {
      const reached: string[] = [];
      const app = buildApp(fakeHandlers(reached), (error) => {
        throw error;
      });
      const big = JSON.stringify({ tag: "x".repeat(MAX_REQUEST_BODY_BYTES) });
      const response = await app.fetch(post(ApiPaths.snapshots, big, chunked));
      assert.equal(response.status, 413);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "E_INPUT_TOO_LARGE");
      assert.equal(body.error.message, `the request body to ${ApiPaths.snapshots} is larger than ${MAX_REQUEST_BODY_BYTES} bytes`);
      const exec = await app.fetch(post(ApiPaths.exec, JSON.stringify({ command: "x".repeat(MAX_EXEC_BODY_BYTES) }), chunked));
      assert.equal(exec.status, 413);
      assert.deepEqual(reached, []);
    });
  }

  it("lets an exec with a few MiB of stdin through", async () => {
    const reached: string[] = [];
    const app = buildApp(fakeHandlers(reached), (error) => {
      throw error;
    });
    const response = await app.fetch(post(ApiPaths.exec, JSON.stringify({ command: "cat", stdinBase64: "A".repeat(4 * 2 ** 20) })));
    assert.equal(response.status, 200);
    assert.deepEqual(reached, ["exec 3"]);
  });

  it("takes a stream request with a socket path and refuses one with unknown fields", async () => {
    const reached: string[] = [];
    const app = buildApp(fakeHandlers(reached), (error) => {
      throw error;
    });
    const ok = await app.fetch(post(ApiPaths.snapshotStream, JSON.stringify({ tag: "t", socket: "/tmp/s/stream", diskLayer: "abc" })));
    assert.equal(ok.status, 200);
    const extra = await app.fetch(post(ApiPaths.snapshotStream, JSON.stringify({ tag: "t", socket: "/tmp/s", diskLayer: "abc", uri: "exec:sh" })));
    assert.equal(extra.status, 400);
    const badLayer = await app.fetch(post(ApiPaths.snapshotStream, JSON.stringify({ tag: "t", socket: "/tmp/s", diskLayer: "../x" })));
    assert.equal(badLayer.status, 400);
    assert.deepEqual(reached, ["streamSnapshot /tmp/s/stream"]);
  });
});
