// Writes schema/snapvm.schema.json from the zod schema in src/config.
// Run after changing the config schema: node --import tsx scripts/gen-schema.ts
// src/config/json-schema.test.ts fails while the committed file is stale.
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/util/atomic-write.ts";
import { renderConfigJsonSchema } from "../src/config/index.ts";

const target = fileURLToPath(new URL("../schema/snapvm.schema.json", import.meta.url));
await writeFileAtomic(target, renderConfigJsonSchema());
console.log(`wrote ${target}`);
