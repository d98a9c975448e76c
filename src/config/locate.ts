import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

export interface Position {
  line: number;
  col: number;
}

/**
 * Where a problem at `path` should point: the node at that path; for an unknown key (`atKey`), the
 * key itself; for a field that is missing or empty, the nearest enclosing node that exists (the
 * parent map, or the key whose value is empty). Never throws: a path the document does not have
 * ends at the last node found.
 */
export function locate(doc: Document, lineCounter: LineCounter, path: readonly (string | number)[], atKey: boolean): Position {
  let node: unknown = doc.contents;
  let found = startOf(node);
  for (const [index, step] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(step));
      if (pair === undefined) break;
      const last = index === path.length - 1;
      const keyStart = startOf(pair.key);
      if (last && atKey && keyStart !== undefined) return lineCounter.linePos(keyStart);
      const valueStart = isEmptyNode(pair.value) ? undefined : startOf(pair.value);
      if (valueStart === undefined) {
        found = keyStart ?? found;
        break;
      }
      node = pair.value;
      found = valueStart;
    } else if (isSeq(node) && typeof step === "number") {
      const item: unknown = node.items[step];
      const itemStart = startOf(item);
      if (itemStart === undefined) break;
      node = item;
      found = itemStart;
    } else {
      break;
    }
  }
  return found === undefined ? { line: 1, col: 1 } : lineCounter.linePos(found);
}

/**
 * The key as yaml's toJS spells it in the plain object zod saw (a null key is ""). Collection keys
 * ("? [a]") are never fields; problems about them point at the enclosing map.
 */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (value === null) return "";
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" ? String(value) : undefined;
}

function startOf(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node)) return undefined;
  const range = (node as Node).range;
  return range?.[0];
}

/** `key:` with nothing after it parses as a null scalar with an empty range that points past the line. */
function isEmptyNode(node: unknown): boolean {
  if (!isScalar(node) || node.value !== null) return false;
  const range = node.range;
  return range === undefined || range === null || range[0] === range[1];
}
