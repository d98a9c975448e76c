import "@xterm/xterm/css/xterm.css";
import "../app.css";
import { consoleView } from "./console.ts";
import { h, showError } from "./dom.ts";
import { instancesView } from "./instances.ts";
import { perfView } from "./perf.ts";
import { treeView } from "./tree.ts";

let stop: (() => void) | undefined;

/** #/ instances · #/i/NAME snapshot tree · #/c/NAME console · #/perf bench charts */
function route(): void {
  stop?.();
  showError(undefined);
  const view = document.getElementById("view");
  const crumbs = document.getElementById("crumbs");
  if (view === null || crumbs === null) return;
  const [, kind, raw] = /^#\/(i|c)\/(.+)$/.exec(location.hash) ?? [];
  const name = raw === undefined ? undefined : decodeURIComponent(raw);
  if (location.hash === "#/perf") {
    crumbs.replaceChildren(h("a", { href: "#/" }, "instances"), " / performance");
    stop = perfView(view);
    return;
  }
  if (name === undefined) {
    crumbs.replaceChildren(h("a", { href: "#/perf" }, "performance"));
    stop = instancesView(view);
    return;
  }
  crumbs.replaceChildren(
    h("a", { href: "#/" }, "instances"),
    " / ",
    h("a", { href: `#/i/${encodeURIComponent(name)}` }, name),
    kind === "c" ? " / console" : " / snapshots",
  );
  stop = kind === "c" ? consoleView(view, name) : treeView(view, name);
}

window.addEventListener("hashchange", route);
route();
