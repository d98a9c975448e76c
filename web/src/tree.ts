import type { UiForkResult, UiSnapshotNode, UiSnapshotTree } from "../../src/ui/wire.ts";
import { api, enc } from "./api.ts";
import { act, busyIfPending, bytes, h, showError } from "./dom.ts";
import { rememberForked } from "./forked.ts";

/** A node's action button; `key` names the snapshot, so a redraw while it runs keeps it busy. */
function button(key: string, label: string, action: () => Promise<unknown>, refresh: () => void): HTMLElement {
  const element = busyIfPending(h("button", { "data-action": label }, label), `${key} ${label}`);
  element.addEventListener("click", () => void act(element, action, refresh, `${key} ${label}`));
  return element;
}

function forkControls(tree: UiSnapshotTree, node: UiSnapshotNode, refresh: () => void): HTMLElement {
  const count = h("input", { type: "number", min: "1", max: "16", value: "2", class: "count", "aria-label": "how many forks" }) as HTMLInputElement;
  const name = h("input", { value: `${tree.instance}-${node.tag}`.slice(0, 50), class: "fork-name", "aria-label": "fork name" }) as HTMLInputElement;
  const go = button(
    `${tree.instance}@${node.tag}`,
    "fork",
    async () => {
      const body = { name: name.value.trim(), count: Number(count.value) };
      rememberForked(await api<UiForkResult>("POST", `/instances/${enc(tree.instance)}/snapshots/${enc(node.tag)}/fork`, body));
      location.hash = "#/"; // the instances table, the new forks marked
    },
    refresh,
  );
  return h("span", { class: "fork" }, go, count, "×", name);
}

function nodeView(tree: UiSnapshotTree, node: UiSnapshotNode, children: HTMLElement[], refresh: () => void): HTMLElement {
  const base = `/instances/${enc(tree.instance)}/snapshots/${enc(node.tag)}`;
  const facts = [
    node.live ? `live, paused ${node.pauseMs.toFixed(0)} ms` : "offline",
    node.hasMemory ? "memory+disk" : "disk only",
    `${bytes(node.allocatedBytes)} on disk / ${bytes(node.apparentBytes)} apparent`,
    node.compressed ? "compressed" : "",
    new Date(node.createdAt).toLocaleString(),
  ].filter((f) => f !== "");
  const key = `${tree.instance}@${node.tag}`;
  const remove = busyIfPending(h("button", { class: "danger", "data-action": "delete" }, "delete"), `${key} delete`);
  remove.addEventListener("click", () => {
    if (!confirm(`Delete the snapshot ${key}?`)) return;
    void act(remove, () => api("DELETE", base), refresh, `${key} delete`);
  });
  const forks = node.forks.map((f) =>
    h("li", { class: "fork-node", "data-fork": f }, h("span", { class: "glyph" }, "↳ fork"), h("a", { href: `#/i/${enc(f)}` }, f)),
  );
  return h(
    "li",
    { class: "snap", "data-tag": node.tag },
    h(
      "div",
      { class: "node" },
      h("strong", {}, node.tag),
      h("span", { class: "facts" }, facts.join(" · ")),
      h(
        "span",
        { class: "actions" },
        button(key, "restore", () => api("POST", `${base}/actions/restore`), refresh),
        node.hasMemory ? forkControls(tree, node, refresh) : null,
        node.compressed ? null : button(key, "compress", () => api("POST", `${base}/actions/compress`), refresh),
        remove,
      ),
    ),
    children.length + forks.length === 0 ? null : h("ul", {}, ...forks, ...children),
  );
}

function nowNode(tree: UiSnapshotTree): HTMLElement {
  return h("li", { class: "now" }, h("div", { class: "node" }, h("strong", {}, "NOW"), h("span", { class: "facts" }, `you are here: ${tree.state}`)));
}

/** Snapshots by parent, the "now" node under the snapshot the disk sits on, forks under their snapshot. */
export function renderTree(tree: UiSnapshotTree, refresh: () => void): HTMLElement {
  const byParent = new Map<string | null, UiSnapshotNode[]>();
  const known = new Set(tree.snapshots.map((s) => s.tag));
  for (const s of tree.snapshots) {
    const parent = s.parent !== null && known.has(s.parent) ? s.parent : null;
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  const build = (parent: string | null): HTMLElement[] => [
    ...(byParent.get(parent) ?? []).map((s) => nodeView(tree, s, build(s.tag), refresh)),
    ...(tree.nowParent === parent ? [nowNode(tree)] : []),
  ];
  return h("ul", { class: "tree" }, ...build(null));
}

/** A field as `key=value`: strings bare, fractions to one decimal (pauseMs=78.1, not 78.115966796875). */
function field([key, value]: [string, unknown]): string {
  if (typeof value === "string") return `${key}=${value}`;
  if (typeof value === "number" && !Number.isInteger(value)) return `${key}=${value.toFixed(1)}`;
  return `${key}=${JSON.stringify(value)}`;
}

function eventLine(record: Record<string, unknown>): HTMLElement {
  const { time, event, ...rest } = record;
  const when = typeof time === "string" ? new Date(time).toLocaleTimeString() : "";
  const fields = Object.entries(rest).map(field).join(" ");
  return h("li", {}, h("span", { class: "sub" }, when), " ", h("strong", {}, typeof event === "string" ? event : "?"), " ", fields);
}

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** An agent log line as `time level msg key=value…`; a line that is not a JSON record (QEMU's stderr) as it is. */
function logLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return line;
  const { time, level, msg, ...rest } = record as Record<string, unknown>;
  const when = typeof time === "string" || typeof time === "number" ? new Date(time).toLocaleTimeString() : "";
  const fields = Object.entries(rest)
    .filter(([k]) => k !== "instance") // the page is the instance's
    .map(field);
  return [when, typeof level === "number" ? (LEVELS[level] ?? String(level)) : "", typeof msg === "string" ? msg : "", ...fields]
    .filter((part) => part !== "")
    .join(" ");
}

/** One instance: its origin, a snapshot form, the tree, its newest events and agent log lines, refreshed every 3 s; returns its stop. */
export function treeView(root: HTMLElement, instance: string): () => void {
  const holder = h("div", { class: "tree-holder" });
  const origin = h("p", { class: "origin" });
  const events = h("ul", { class: "events" });
  const log = h("pre", { class: "log" });
  let stopped = false;
  let timer: number | undefined;
  const refresh = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    api<Record<string, unknown>[]>("GET", `/instances/${enc(instance)}/events`).then(
      (records) => {
        events.replaceChildren(...records.reverse().map(eventLine));
      },
      () => undefined, // the tree's request reports the same failure
    );
    api<string[]>("GET", `/instances/${enc(instance)}/logs`).then(
      (lines) => {
        log.textContent = lines.map(logLine).join("\n");
      },
      () => undefined,
    );
    api<UiSnapshotTree>("GET", `/instances/${enc(instance)}/snapshots`)
      .then(
        (tree) => {
          origin.replaceChildren(
            ...(tree.origin === undefined
              ? [`state: ${tree.state}`]
              : [`state: ${tree.state} · forked from `, h("a", { href: `#/i/${enc(tree.origin.instance)}` }, `${tree.origin.instance}@${tree.origin.tag}`)]),
          );
          holder.replaceChildren(renderTree(tree, refresh), ...tree.broken.map((b) => h("p", { class: "broken" }, `${b.tag}: ${b.reason}`)));
        },
        (error: unknown) => {
          showError(error);
        },
      )
      .finally(() => {
        if (!stopped) timer = window.setTimeout(refresh, 3000);
      });
  };
  const tag = h("input", { name: "tag", placeholder: "tag", required: "", pattern: "[A-Za-z0-9._-]+" }) as HTMLInputElement;
  const take = h("button", { type: "submit" }, "take snapshot");
  const form = h("form", { class: "snapshot" }, tag, take);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void act(
      take,
      () => api("POST", `/instances/${enc(instance)}/snapshots`, { tag: tag.value.trim() }),
      () => {
        tag.value = "";
        refresh();
      },
    );
  });
  root.replaceChildren(
    h(
      "section",
      {},
      h("h2", {}, `${instance}: snapshots`),
      origin,
      form,
      holder,
      h("p", {}, h("a", { class: "button", href: `#/c/${enc(instance)}` }, "console")),
    ),
    h("section", {}, h("h2", {}, "Events (newest first)"), events),
    h("section", {}, h("h2", {}, "Agent log (newest last)"), log),
  );
  refresh();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
