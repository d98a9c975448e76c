import { ApiError } from "./api.ts";

type Child = Node | string | null | undefined | false;

/** A tiny element builder: h("td", { class: "x" }, "text", child). */
export function h(tag: string, attrs: Record<string, string | ((event: Event) => void)> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") element.addEventListener(key.replace(/^on/, ""), value);
    else element.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

export function showError(error: unknown): void {
  const banner = document.getElementById("error");
  if (banner === null) return;
  if (error === undefined) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.replaceChildren(
    h("code", {}, error instanceof ApiError ? error.code : "error"),
    " ",
    h("span", { class: "message" }, error instanceof Error ? error.message : JSON.stringify(error)),
    ...(error instanceof ApiError && error.hint !== undefined ? [h("div", { class: "hint" }, error.hint)] : []),
    h(
      "button",
      {
        class: "close",
        onclick: () => {
          showError(undefined);
        },
      },
      "×",
    ),
  );
}

/**
 * Actions in flight, by a key naming the instance (and tag) and the action: the views redraw every
 * few seconds, and a redrawn button must stay busy until its action answers, or it could be clicked
 * again.
 */
const pending = new Set<string>();

/** Runs a user action with its button disabled (and, with a key, any redrawn copy of it); its error goes to the banner. */
export async function act(button: HTMLElement, action: () => Promise<unknown>, after: () => void, key?: string): Promise<void> {
  setBusy(button, true);
  if (key !== undefined) pending.add(key);
  try {
    await action();
    showError(undefined);
  } catch (error) {
    showError(error);
  } finally {
    if (key !== undefined) pending.delete(key);
    setBusy(button, false);
    after();
  }
}

/** A button drawn while its action (same key) is still in flight is drawn busy. */
export function busyIfPending(button: HTMLElement, key: string): HTMLElement {
  if (pending.has(key)) setBusy(button, true);
  return button;
}

function setBusy(button: HTMLElement, busy: boolean): void {
  button.toggleAttribute("disabled", busy);
  button.classList.toggle("busy", busy);
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit] ?? "B"}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}
