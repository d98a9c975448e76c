import { z } from "zod";
import { configErrorMap } from "./messages.ts";
import { configFileSchema } from "./schema.ts";
import { closestKey } from "./suggest.ts";
import type { ConfigFile } from "./types.ts";

/** One problem found by the schema, before it is given a file position. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** True when the problem is the key itself (an unknown field), so it is located at the key, not the value. */
  atKey: boolean;
}

export type ConfigValidation = { ok: true; file: ConfigFile } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates a parsed YAML (or in-code) value against the ConfigFile schema and returns every
 * problem, not just the first (habit 8). An empty document (null) is an empty config.
 */
export function validateConfigValue(value: unknown): ConfigValidation {
  const result = configFileSchema.safeParse(value ?? {}, { error: configErrorMap });
  if (result.success) return { ok: true, file: result.data };
  return { ok: false, issues: result.error.issues.flatMap(toConfigIssues) };
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code !== "unrecognized_keys") return [{ path, message: issue.message, atKey: false }];
  const known = knownKeysAt(path);
  return issue.keys.map((key) => ({ path: [...path, key], message: unknownFieldMessage(key, known), atKey: true }));
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const guess = closestKey(key, known);
  if (guess !== undefined) return `unknown field (did you mean "${guess}"?)`;
  return `unknown field (expected one of: ${known.join(", ")})`;
}

/** Field names of the schema object at `path` (array indexes step into the element schema). */
function knownKeysAt(path: readonly (string | number)[]): string[] {
  let schema: z.core.$ZodType = configFileSchema;
  for (const step of path) {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject && typeof step === "string") {
      const next = (inner.shape as Record<string, z.core.$ZodType | undefined>)[step];
      if (next === undefined) return [];
      schema = next;
    } else if (inner instanceof z.ZodArray && typeof step === "number") {
      schema = inner.element;
    } else {
      return [];
    }
  }
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (current instanceof z.ZodExactOptional || current instanceof z.ZodOptional) current = current.unwrap();
  return current;
}
