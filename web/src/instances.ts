import type { UiForkResult, UiInstanceRow } from "../../src/ui/wire.ts";
import { api, enc } from "./api.ts";
import { act, busyIfPending, bytes, duration, h, showError } from "./dom.ts";
import { takeForked } from "./forked.ts";

const ACTIONS: Record<string, string[]> = {
  running: ["save", "stop", "restart"],
  created: ["start"],
  stopped: ["start"],
  suspended: ["start", "restart"],
  broken: ["start"],
};

function row(instance: UiInstanceRow, refresh: () => void, fresh: ReadonlySet<string>): HTMLElement {
  const buttons = (ACTIONS[instance.state] ?? []).map((action) => {
    const key = `${instance.name} ${action}`;
    const button = busyIfPending(h("button", { "data-action": action }, action), key);
    button.addEventListener("click", () => void act(button, () => api("POST", `/instances/${enc(instance.name)}/actions/${action}`), refresh, key));
    return button;
  });
  const removeKey = `${instance.name} delete`;
  const remove = busyIfPending(h("button", { class: "danger", "data-action": "delete" }, "delete"), removeKey);
  remove.addEventListener("click", () => {
    if (!confirm(`Delete the instance "${instance.name}"? Its VM is stopped and its disk, memory and snapshots are removed.`)) return;
    void act(remove, () => api("DELETE", `/instances/${enc(instance.name)}`), refresh, removeKey);
  });
  const saved = instance.saved === undefined ? "" : `${bytes(instance.saved.allocatedBytes)}, ${duration(instance.saved.ageSeconds)} ago`;
  return h(
    "tr",
    { "data-instance": instance.name, "data-state": instance.state, ...(fresh.has(instance.name) ? { class: "new" } : {}) },
    h(
      "td",
      {},
      h("a", { href: `#/i/${enc(instance.name)}` }, instance.name),
      instance.origin === undefined ? null : h("div", { class: "sub" }, `↳ fork of ${instance.origin.instance}@${instance.origin.tag}`),
    ),
    h(
      "td",
      {},
      h("span", { class: `state ${instance.state}` }, instance.state),
      instance.note === undefined ? null : h("div", { class: "sub" }, instance.note),
    ),
    h("td", {}, instance.accel ?? ""),
    h("td", {}, instance.memory ?? ""),
    h("td", {}, saved),
    h("td", {}, instance.uptimeSeconds === undefined ? "" : duration(instance.uptimeSeconds)),
    h("td", {}, instance.ports.map((p) => `${p.host}→${p.guest}${p.protocol === "tcp" ? "" : `/${p.protocol}`}`).join(" ")),
    h(
      "td",
      { class: "actions" },
      ...buttons,
      instance.state === "running" ? h("a", { class: "button", href: `#/c/${enc(instance.name)}` }, "console") : null,
      h("a", { class: "button", href: `#/i/${enc(instance.name)}` }, "snapshots"),
      remove,
    ),
  );
}

function createForm(refresh: () => void): HTMLElement {
  const name = h("input", { name: "name", placeholder: "name", required: "", pattern: "[a-z][a-z0-9-]*" }) as HTMLInputElement;
  const memory = h("input", { name: "memory", placeholder: "memory (e.g. 256M)", value: "256M" }) as HTMLInputElement;
  const cpus = h("input", { name: "cpus", type: "number", min: "1", max: "64", value: "1" }) as HTMLInputElement;
  const submit = h("button", { type: "submit" }, "create");
  const form = h("form", { class: "create" }, name, memory, cpus, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), ...(memory.value.trim() === "" ? {} : { memory: memory.value.trim() }), cpus: Number(cpus.value) };
    void act(
      submit,
      () => api("POST", "/instances", body),
      () => {
        name.value = "";
        refresh();
      },
    );
  });
  return h("section", {}, h("h2", {}, "Create an instance"), form);
}

/** "Forked 2 from web@warm: web-1, web-2", each a link, and each fork that failed with its reason. */
function forkedNotice(result: UiForkResult): HTMLElement {
  const started = result.forks.filter((f) => f.failed === undefined);
  const links = started.flatMap((f, i) => [i === 0 ? "" : ", ", h("a", { href: `#/i/${enc(f.name)}` }, f.name)]);
  return h(
    "section",
    { class: "forked" },
    h("p", {}, `Forked ${started.length} from ${result.from.instance}@${result.from.tag}: `, ...links),
    ...result.forks.flatMap((f) =>
      f.failed === undefined ? [] : [h("p", { class: "failed" }, `${f.name}: ${f.failed.message} `, h("code", {}, f.failed.code))],
    ),
  );
}

/** The instances table, polled every 2 s (GET /api/instances reads status files only); returns its stop. */
export function instancesView(root: HTMLElement): () => void {
  const forked = takeForked();
  const fresh = new Set(forked?.forks.map((f) => f.name) ?? []);
  const body = h("tbody");
  const table = h(
    "table",
    { class: "instances" },
    h("thead", {}, h("tr", {}, ...["name", "state", "accel", "memory", "saved state", "uptime", "ports", ""].map((t) => h("th", {}, t)))),
    body,
  );
  let stopped = false;
  let timer: number | undefined;
  const refresh = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    api<UiInstanceRow[]>("GET", "/instances")
      .then(
        (rows) => {
          body.replaceChildren(
            ...(rows.length === 0
              ? [h("tr", {}, h("td", { colspan: "8", class: "empty" }, "no instances yet: create one below"))]
              : rows.map((r) => row(r, refresh, fresh))),
          );
        },
        (error: unknown) => {
          showError(error);
        },
      )
      .finally(() => {
        if (!stopped) timer = window.setTimeout(refresh, 2000);
      });
  };
  root.replaceChildren(...(forked === undefined ? [] : [forkedNotice(forked)]), h("section", {}, h("h2", {}, "Instances"), table), createForm(refresh));
  refresh();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
