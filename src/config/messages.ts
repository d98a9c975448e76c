import { z } from "zod";

/**
 * Messages for zod issues, phrased for someone editing snapvm.yaml ("must be at least 1 (got 0)")
 * rather than for a programmer ("Too small: expected number to be >=1"). Passed per parse, so
 * messages a schema sets itself still win. Returns undefined to keep zod's message.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type": {
      // zod reports "number" for a non-number given to z.int(); the user should hear "whole number".
      const expected = issue.expected === "number" && issue.inst instanceof z.ZodNumber && issue.inst.format === "safeint" ? "int" : issue.expected;
      return `expected ${EXPECTED[expected] ?? expected}, got ${describeValue(issue.input)}`;
    }
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "must not be empty" : `must be at least ${issue.minimum} characters long`;
      return `must be ${issue.inclusive === false ? "greater than" : "at least"} ${issue.minimum} (got ${describeValue(issue.input)})`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters long`;
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum} (got ${describeValue(issue.input)})`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} (got ${describeValue(issue.input)})`;
    case "invalid_format":
      if (issue.format === "ipv4") return `must be an IPv4 address such as "127.0.0.1" (got ${describeValue(issue.input)})`;
      return undefined;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor} (got ${describeValue(issue.input)})`;
    default:
      return undefined;
  }
};

const EXPECTED: Readonly<Record<string, string>> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a map of fields",
  array: "a list",
};

/** A short, safe description of a parsed YAML value (never the whole value: it may be huge or circular). */
export function describeValue(value: unknown): string {
  if (value === null) return "an empty value";
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "binary data";
  if (typeof value === "object") return "a map";
  return typeof value;
}
