import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { followFile } from "./follow-file.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "snapvm-follow-"));
}

/** Reads chunks until their text contains `want` (or fails after timeoutMs). */
async function readUntil(it: AsyncGenerator<Buffer>, want: string, timeoutMs = 5000): Promise<string> {
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!text.includes(want)) {
    const timer = new Promise<"timeout">((resolve) =>
      setTimeout(
        () => {
          resolve("timeout");
        },
        Math.max(0, deadline - Date.now()),
      ).unref(),
    );
    const next = await Promise.race([it.next(), timer]);
    if (next === "timeout") assert.fail(`timed out waiting for ${JSON.stringify(want)}; got ${JSON.stringify(text)}`);
    if (next.done === true) assert.fail(`ended before ${JSON.stringify(want)}; got ${JSON.stringify(text)}`);
    text += next.value.toString("utf8");
  }
  return text;
}

describe("followFile", () => {
  test("without follow: the content, then the end", async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, "log"), "one\ntwo\n");
      const chunks: string[] = [];
      for await (const chunk of followFile(join(dir, "log"))) chunks.push(chunk.toString("utf8"));
      assert.equal(chunks.join(""), "one\ntwo\n");
      const missing: Buffer[] = [];
      for await (const chunk of followFile(join(dir, "absent"))) missing.push(chunk);
      assert.deepEqual(missing, [], "a missing file is empty, not an error");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("follows appends and a truncation; abort ends it and releases the listener", async () => {
    const dir = tempDir();
    const path = join(dir, "log");
    const controller = new AbortController();
    try {
      writeFileSync(path, "start\n");
      const it = followFile(path, { follow: true, signal: controller.signal, pollMs: 20 });
      assert.equal(await readUntil(it, "start\n"), "start\n");
      appendFileSync(path, "more\n");
      assert.equal(await readUntil(it, "more\n"), "more\n");
      writeFileSync(path, "new\n"); // truncated and rewritten: read from 0
      assert.equal(await readUntil(it, "new\n"), "new\n");
      const next = it.next();
      controller.abort();
      assert.equal((await next).done, true);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    } finally {
      controller.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a file created after the follow started is waited for, then read", async () => {
    const dir = tempDir();
    const path = join(dir, "late.log");
    const controller = new AbortController();
    try {
      const it = followFile(path, { follow: true, signal: controller.signal, pollMs: 20 });
      const first = readUntil(it, "hello\n");
      await new Promise((resolve) => setTimeout(resolve, 100));
      writeFileSync(path, "hello\n");
      assert.equal(await first, "hello\n");
      appendFileSync(path, "again\n");
      assert.equal(await readUntil(it, "again\n"), "again\n", "the watcher set up after the file appeared sees appends");
      controller.abort();
      assert.equal((await it.next()).done, true);
    } finally {
      controller.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("2000 wake-ups add no listener (no MaxListenersExceededWarning)", async () => {
    const dir = tempDir();
    const path = join(dir, "busy.log");
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      writeFileSync(path, "");
      const it = followFile(path, { follow: true, signal: controller.signal, pollMs: 1 });
      for (let i = 0; i < 2000; i++) {
        appendFileSync(path, `${i}\n`);
        await readUntil(it, `${i}\n`);
        if (i % 500 === 499) assert.equal(getEventListeners(controller.signal, "abort").length, 1, `after ${i} wake-ups`);
      }
      assert.equal(getEventListeners(controller.signal, "abort").length, 1);
      controller.abort();
      assert.equal((await it.next()).done, true);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.map((w) => w.name),
        [],
      );
    } finally {
      process.off("warning", onWarning);
      controller.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
