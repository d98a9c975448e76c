import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { ErrorCode } from "../errors/index.ts";
import { renderErrorsDoc } from "../errors/render-doc.ts";
import { httpStatusFor } from "./http-status.ts";
import { openApiDocument, renderOpenApiDocument } from "./openapi.ts";
import { ApiPaths } from "./paths.ts";

const committed = (file: string): Promise<string> => readFile(new URL(`../../docs/${file}`, import.meta.url), "utf8");

describe("generated docs (run: node --import tsx scripts/gen-docs.ts)", () => {
  it("docs/errors.md lists every error code as generated", async () => {
    assert.equal(await committed("errors.md"), renderErrorsDoc(httpStatusFor));
  });

  it("docs/openapi.json is the document the agent serves", async () => {
    assert.equal(await committed("openapi.json"), renderOpenApiDocument());
  });

  it("the OpenAPI document covers every /v1 route and describes the status fully", () => {
    const doc = openApiDocument() as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: { "application/json": { schema: { properties?: Record<string, unknown> } } } }> }>
      >;
    };
    for (const path of Object.values(ApiPaths)) {
      if (path !== ApiPaths.openapi) assert.ok(doc.paths[path] !== undefined, `${path} is missing`);
    }
    const status = doc.paths[ApiPaths.status]?.["get"]?.responses["200"]?.content["application/json"].schema;
    assert.deepEqual(Object.keys(status?.properties ?? {}).sort(), [
      "accel",
      "accelReason",
      "agentPid",
      "bootKind",
      "lastEvent",
      "migration",
      "qemuPid",
      "qemuVersion",
      "readyMs",
      "saveOnStop",
      "startedAt",
      "state",
      "updatedAt",
    ]);
  });
});

describe("httpStatusFor", () => {
  it("maps each kind of error to one status", () => {
    assert.equal(httpStatusFor(ErrorCode.InvalidName), 400);
    assert.equal(httpStatusFor(ErrorCode.InvalidArgument), 400);
    assert.equal(httpStatusFor(ErrorCode.InstanceNotFound), 404);
    assert.equal(httpStatusFor(ErrorCode.InstanceRunning), 409);
    assert.equal(httpStatusFor(ErrorCode.InvalidTransition), 409);
    assert.equal(httpStatusFor(ErrorCode.NotSupported), 422);
    assert.equal(httpStatusFor(ErrorCode.QemuFailed), 502);
    assert.equal(httpStatusFor(ErrorCode.GuestTimeout), 504);
    assert.equal(httpStatusFor(ErrorCode.SaveFailed), 500);
    assert.equal(httpStatusFor(ErrorCode.UiUnauthorized), 401);
  });

  it("gives every code a status in the documented set", () => {
    for (const code of Object.values(ErrorCode)) assert.ok([400, 401, 403, 404, 409, 413, 422, 500, 502, 504].includes(httpStatusFor(code)), code);
  });
});
