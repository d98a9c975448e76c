import { z } from "zod";
import { configFileSchema } from "./schema.ts";

/**
 * The JSON Schema of snapvm.yaml for editors (yaml-language-server), generated from the zod schema
 * so it cannot drift. Cross-field checks (duplicate ports, size bounds) are not expressible in it;
 * snapvm itself still reports them.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configFileSchema, { target: "draft-2020-12", io: "input" });
}

/** The exact text of schema/snapvm.schema.json (scripts/gen-schema.ts writes it; a test compares). */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
