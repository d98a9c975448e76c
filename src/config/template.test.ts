import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { defaultConfigFile } from "./defaults.ts";
import { parseConfigText } from "./load.ts";

const TEMPLATE = new URL("../../templates/default.yaml", import.meta.url);

describe("templates/default.yaml", () => {
  it("sets every field to its default, so the documentation cannot drift from defaults.ts", async () => {
    const file = parseConfigText(await readFile(TEMPLATE, "utf8"), "templates/default.yaml");
    assert.deepEqual(file, defaultConfigFile());
  });

  it("documents every field with a comment", async () => {
    const lines = (await readFile(TEMPLATE, "utf8")).split("\n");
    lines.forEach((line, index) => {
      if (/^\s*[a-zA-Z]+:/.test(line)) {
        const before = lines[index - 1] ?? "";
        const isSection = /^[a-zA-Z]+:$/.test(line);
        assert.ok(before.trimStart().startsWith("#") || isSection, `line ${index + 1} (${line.trim()}) has no comment above it`);
      }
    });
    assert.match(lines.join("\n"), /# +userData:/);
  });
});
