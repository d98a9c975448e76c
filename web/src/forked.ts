import type { UiForkResult } from "../../src/ui/wire.ts";

/**
 * A fork from the tree opens the instances table with its new instances marked: the tree's action
 * leaves its answer here and the table takes it once (sessionStorage: this tab only, gone on reload).
 */
const KEY = "snapvm-forked";

export function rememberForked(result: UiForkResult): void {
  sessionStorage.setItem(KEY, JSON.stringify(result));
}

export function takeForked(): UiForkResult | undefined {
  const text = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as UiForkResult;
    return Array.isArray(value.forks) ? value : undefined;
  } catch {
    return undefined;
  }
}
