import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { resolveEndpoint, s3ClientConfig } from "./client.ts";

test("an explicit endpoint wins over AWS_ENDPOINT_URL_S3, which wins over AWS_ENDPOINT_URL", () => {
  const env = { AWS_ENDPOINT_URL_S3: "http://s3only:1", AWS_ENDPOINT_URL: "http://all:2" };
  assert.equal(resolveEndpoint("http://explicit:3", env), "http://explicit:3");
  assert.equal(resolveEndpoint(undefined, env), "http://s3only:1");
  assert.equal(resolveEndpoint(undefined, { AWS_ENDPOINT_URL: "http://all:2" }), "http://all:2");
  assert.equal(resolveEndpoint(undefined, { AWS_ENDPOINT_URL: "" }), undefined);
  assert.equal(resolveEndpoint(undefined, {}), undefined);
});

test("a custom endpoint gets path-style addressing and checksums only where required; AWS keeps the SDK defaults", () => {
  assert.deepEqual(s3ClientConfig({ endpoint: "http://127.0.0.1:8000", region: "us-east-1", maxAttempts: 1 }, {}), {
    region: "us-east-1",
    maxAttempts: 1,
    endpoint: "http://127.0.0.1:8000",
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  assert.deepEqual(s3ClientConfig({ profile: "backup" }, {}), { profile: "backup" });
});

test("no module of src/remote/s3 imports the AWS SDK at load time (only import type and await import())", async () => {
  const dir = new URL(".", import.meta.url);
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    const source = await readFile(new URL(name, dir), "utf8");
    const eager = source.split("\n").filter((line) => /^\s*(import|export)\s+(?!type\b)[^;]*from\s+"@aws-sdk\//.test(line));
    assert.deepEqual(eager, [], `${name} loads the SDK eagerly`);
  }
});

test("loading src/remote/s3 leaves the SDK unloaded until a client is created", () => {
  // The SDK is CommonJS: once loaded, its files are in require.cache.
  const script = `
    import { createRequire } from "node:module";
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes("@aws-sdk"));
    const s3 = await import(${JSON.stringify(new URL("./index.ts", import.meta.url).href)});
    const before = loaded();
    await s3.createS3Client({ endpoint: "http://127.0.0.1:9", region: "us-east-1" });
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  assert.deepEqual(JSON.parse(out), { before: false, after: true });
});
