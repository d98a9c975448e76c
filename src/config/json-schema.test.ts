import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { configJsonSchema, renderConfigJsonSchema } from "./json-schema.ts";

describe("schema/snapvm.schema.json", () => {
  it("equals the schema generated from zod (run: node --import tsx scripts/gen-schema.ts)", async () => {
    const committed = await readFile(new URL("../../schema/snapvm.schema.json", import.meta.url), "utf8");
    assert.equal(committed, renderConfigJsonSchema());
  });

  it("forbids unknown keys and carries defaults for editors", () => {
    const schema = configJsonSchema() as { additionalProperties?: unknown; properties: Record<string, { default?: unknown }> };
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties["cpus"]?.default, 1);
    assert.equal(schema.properties["image"]?.default, "tiny");
  });
});
