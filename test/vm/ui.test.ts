import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CLI, TestHome } from "./harness.ts";

/** Debian's chromium, headless, with nothing that reaches the network (../shared/DESIGN.md §6). */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/**
 * Where the views' screenshots go: a temp dir, so the test command leaves the checkout as it was;
 * `SNAPVM_UI_SCREENSHOTS=docs/ui` refreshes README's.
 */
const SCREENSHOTS_TO = process.env["SNAPVM_UI_SCREENSHOTS"];
/** Booting, snapshotting and forking under TCG on a shared 2-core host. */
const SLOW = 240_000;

/** `snapvm ui --json`: resolves with the URL it printed once it listens. */
function startDashboard(home: TestHome): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, [CLI, "ui", "--json"], { env: { ...process.env, SNAPVM_HOME: home.dir }, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr.resume(); // its notices; drained so they can never fill the pipe
  return new Promise((resolvePromise, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      try {
        const printed = JSON.parse(out) as { url: string; port: number };
        resolvePromise({ child, url: printed.url, port: printed.port });
      } catch {
        // not the whole object yet
      }
    });
    child.on("exit", (code) => {
      reject(new Error(`snapvm ui exited ${code}: ${out}`));
    });
  });
}

/** The terminal's visible text (xterm's DOM renderer). */
function terminalText(page: Page): Promise<string> {
  return page.locator(".xterm-rows").innerText();
}

/** Types a line into the console until `marker` shows (the tiny guest's ash may drop a line typed while it redraws its prompt). */
async function typeUntil(page: Page, line: string, marker: RegExp, watch: Page = page): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.locator(".xterm").click();
    await page.keyboard.type(line);
    await page.keyboard.press("Enter");
    for (let i = 0; i < 20; i++) {
      const match = marker.exec(await terminalText(watch));
      if (match !== null) return match[0];
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Date.now() > deadline) throw new Error(`no ${String(marker)} in the console after typing ${line}:\n${await terminalText(watch)}`);
  }
}

describe("the web dashboard in headless chromium", () => {
  let home: TestHome;
  let dashboard: { child: ChildProcess; url: string; port: number };
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let screenshots: string;

  before(async () => {
    home = new TestHome();
    profile = mkdtempSync(join(tmpdir(), "snapvm-chromium-"));
    screenshots = SCREENSHOTS_TO === undefined ? mkdtempSync(join(tmpdir(), "snapvm-ui-shots-")) : resolve(SCREENSHOTS_TO);
    dashboard = await startDashboard(home);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 760 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("dialog", (dialog) => void dialog.accept());
  });
  after(async () => {
    await context.close().catch(() => undefined);
    dashboard.child.kill("SIGTERM");
    await home.cleanup();
    rmSync(profile, { recursive: true, force: true });
    if (SCREENSHOTS_TO === undefined) rmSync(screenshots, { recursive: true, force: true });
  });

  test("without the token: 401 with E_UI_UNAUTHORIZED, for the page, the API and a state change", async () => {
    const base = `http://127.0.0.1:${dashboard.port}`;
    for (const [path, init] of [
      ["/", {}],
      ["/api/instances", {}],
      ["/api/instances", { method: "POST", body: "{}" }],
    ] as const) {
      const response = await fetch(`${base}${path}`, init);
      assert.equal(response.status, 401, path);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "E_UI_UNAUTHORIZED");
    }
    assert.match(dashboard.url, new RegExp(`^${base}/\\?token=[A-Za-z0-9_-]{32}$`));
  });

  test("create and start a 256 MiB VM from the page; the console echoes what is typed, in two tabs", { timeout: SLOW }, async (t) => {
    await page.goto(dashboard.url);
    // Evaluated in the page (browser types): what it paints first and what it loads, for the record.
    const paint = await page.evaluate<string[]>(`performance.getEntriesByType("paint").map((e) => e.name + " " + e.startTime.toFixed(0) + " ms")`);
    const weight = await page.evaluate<string[]>(
      `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => e.name.replace(/.*\\//, "") + " " + e.encodedBodySize + " B")`,
    );
    t.diagnostic(`first paint: ${paint.join(", ")}; page: ${weight.join(", ")}`);
    assert.ok(!page.url().includes("token="), "the token leaves the address bar");

    await page.fill("form.create input[name=name]", "uivm");
    await page.fill("form.create input[name=memory]", "256M");
    await page.click("form.create button[type=submit]");
    const row = page.locator('tr[data-instance="uivm"]');
    await row.waitFor();
    await row.locator('button[data-action="start"]').click();
    await page.locator('tr[data-instance="uivm"][data-state="running"]').waitFor({ timeout: SLOW });

    await row.locator("a", { hasText: "console" }).click();
    await page.locator("#console-status", { hasText: "attached" }).waitFor();
    const echoed = await typeUntil(page, "echo ui-$RANDOM", /^ui-\d+$/m);
    t.diagnostic(`the console echoed ${echoed}`);

    const second = await context.newPage();
    try {
      await second.goto(`http://127.0.0.1:${dashboard.port}/#/c/uivm`);
      await second.locator("#console-status", { hasText: "attached" }).waitFor();
      await second.locator(".xterm-rows", { hasText: echoed }).waitFor(); // the agent's scrollback
      await typeUntil(second, "echo tab2-$((6*7))", /^tab2-42$/m, page); // typed in one tab, seen in the other
    } finally {
      await second.close();
    }
    await page.screenshot({ path: join(screenshots, "console.png") });
  });

  test(
    "snapshot from the tree, fork 2 from it: they hang off the snapshot and answer; deleting the snapshot is refused with its code; compress and restore",
    { timeout: SLOW },
    async () => {
      await page.goto(`http://127.0.0.1:${dashboard.port}/#/i/uivm`);
      await page.fill("form.snapshot input[name=tag]", "s1");
      await page.click("form.snapshot button[type=submit]");
      const node = page.locator('li.snap[data-tag="s1"]');
      await node.waitFor({ timeout: SLOW });
      await node.locator("input.count").fill("2");
      await node.locator("input.fork-name").fill("uif");
      await node.locator('button[data-action="fork"]').first().click();
      // The fork opens the instances table, the new ones marked and linked; then back to the tree.
      await page.locator("section.forked", { hasText: "Forked 2 from uivm@s1: uif-1, uif-2" }).waitFor({ timeout: SLOW });
      for (const fork of ["uif-1", "uif-2"]) await page.locator(`tr.new[data-instance="${fork}"]`).waitFor();
      await page.locator('section.forked a[href="#/i/uif-1"]').waitFor();
      await page.goto(`http://127.0.0.1:${dashboard.port}/#/i/uivm`);
      await page.locator('li.fork-node[data-fork="uif-1"]').waitFor({ timeout: SLOW });
      await page.locator('li.fork-node[data-fork="uif-2"]').waitFor();
      await page.locator("li.now").waitFor();
      await page.locator("ul.events li", { hasText: "snapshot" }).first().waitFor(); // the instance's events, live
      await page.locator("pre.log", { hasText: / info progress step=/ }).waitFor(); // and its agent log's newest lines, formatted
      for (const fork of ["uif-1", "uif-2"]) assert.equal(await home.ok(["exec", fork, "--", "echo", `hello from ${fork}`]), `hello from ${fork}\n`);

      await node.locator('button[data-action="delete"]').first().click();
      await page.locator("#error code").waitFor();
      assert.match(await page.locator("#error code").innerText(), /^E_[A-Z_]+$/);
      assert.match(await page.locator("#error .message").innerText(), /uif-1/);
      await page.click("#error .close");

      await page.fill("form.snapshot input[name=tag]", "s2");
      await page.click("form.snapshot button[type=submit]");
      await page.locator('li.snap[data-tag="s1"] li.snap[data-tag="s2"] li.now').waitFor({ timeout: SLOW }); // s1 → s2 → NOW
      await page.screenshot({ path: join(screenshots, "tree.png") });

      // The tree redraws every 3 s, so an action's end is its response, not its button's state.
      const done = (action: string): Promise<number> =>
        page.waitForResponse((r) => r.url().endsWith(`/actions/${action}`), { timeout: SLOW }).then((r) => r.status());
      const s2 = page.locator('li.snap[data-tag="s2"] > .node');
      // Held back until the tree has redrawn: the redrawn button must still be busy (no second click).
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route(/\/actions\/compress$/, async (route) => {
        await held;
        await route.continue();
      });
      const compressed = done("compress");
      const before = await s2.locator('button[data-action="compress"]').elementHandle();
      await s2.locator('button[data-action="compress"]').click();
      await page.waitForFunction("(old) => old !== null && !old.isConnected", before, { timeout: SLOW }); // redrawn
      assert.equal(await s2.locator('button[data-action="compress"]').isDisabled(), true);
      release();
      assert.equal(await compressed, 200);
      await page.unroute(/\/actions\/compress$/);
      await s2.locator(".facts", { hasText: "compressed" }).waitFor();
      const restored = done("restore");
      await node.locator('> .node button[data-action="restore"]').click();
      assert.equal(await restored, 200);
      await page.locator(".origin", { hasText: "state: running" }).waitFor({ timeout: SLOW });
      assert.equal(await home.ok(["exec", "uivm", "--", "echo", "restored"]), "restored\n");
    },
  );

  test("the instances table shows the forks with their origin, updates without a reload, and deletes after confirming", { timeout: SLOW }, async () => {
    await page.goto(`http://127.0.0.1:${dashboard.port}/#/`);
    await page.locator('tr[data-instance="uif-1"][data-state="running"]').waitFor();
    await page.locator('tr[data-instance="uif-2"][data-state="running"]').waitFor();
    assert.match(await page.locator('tr[data-instance="uif-1"]').innerText(), /uivm@s1/);
    await home.ok(["save", "uif-2"]); // outside the page: the table follows
    await page.locator('tr[data-instance="uif-2"][data-state="suspended"]').waitFor({ timeout: SLOW });
    assert.match(await page.locator('tr[data-instance="uif-2"]').innerText(), /MiB, \d+s ago/);
    await page.screenshot({ path: join(screenshots, "instances.png") });
    await page.locator('tr[data-instance="uif-2"] button[data-action="delete"]').click();
    await page.locator('tr[data-instance="uif-2"]').waitFor({ state: "detached", timeout: SLOW });
  });

  test("the performance view charts the latest bench results", async () => {
    await page.goto(`http://127.0.0.1:${dashboard.port}/#/perf`);
    await page.locator(".chart").first().waitFor();
    assert.ok((await page.locator(".chart h3").allInnerTexts()).includes("Save: guest paused (ms)"));
    await page.screenshot({ path: join(screenshots, "perf.png"), fullPage: true });
  });
});
