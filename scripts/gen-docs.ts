// Writes the generated docs: docs/errors.md (the error codes) and docs/openapi.json (the agent's /v1 API).
// Run after changing src/errors/ or the API schemas: node --import tsx scripts/gen-docs.ts
// src/api/docs.test.ts fails while a committed file is stale.
import { fileURLToPath } from "node:url";
import { httpStatusFor } from "../src/api/http-status.ts";
import { renderOpenApiDocument } from "../src/api/openapi.ts";
import { renderErrorsDoc } from "../src/errors/render-doc.ts";
import { writeFileAtomic } from "../src/util/atomic-write.ts";

for (const [file, text] of [
  ["errors.md", renderErrorsDoc(httpStatusFor)],
  ["openapi.json", renderOpenApiDocument()],
] as const) {
  const target = fileURLToPath(new URL(`../docs/${file}`, import.meta.url));
  await writeFileAtomic(target, text);
  console.log(`wrote ${target}`);
}
