import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Identity } from "../../crypto/age/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, instancesDir, tryInstanceName } from "../../paths/index.ts";
import { headObject } from "../../remote/s3/index.ts";
import { connect, parseEndpoint, type S3Options } from "./endpoints.ts";
import { importBundle, type ImportOrigin } from "./import.ts";

export interface RemoteForkSource {
  /** NAME@TAG of the local instance holding the bundle's snapshot. */
  source: string;
  /** False when an earlier import of the same object (same URL and ETag) was used. */
  imported: boolean;
}

/** The local instance an earlier import of this exact object made, if any. */
async function earlierImport(home: string | undefined, origin: Required<ImportOrigin>): Promise<string | undefined> {
  const dir = instancesDir(home);
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir)) {
    const parsed = tryInstanceName(entry);
    if (!("name" in parsed)) continue;
    const marker = instancePaths(parsed.name, home).importedFrom;
    const recorded = (await readFile(marker, "utf8").then(JSON.parse, () => undefined)) as (ImportOrigin & { tag?: string }) | undefined;
    if (recorded?.url === origin.url && recorded.etag === origin.etag && recorded.sizeBytes === origin.sizeBytes && typeof recorded.tag === "string") {
      return `${parsed.name}@${recorded.tag}`;
    }
  }
  return undefined;
}

/** A default template name from the bundle: `<instance>-<tag>`, cut to the name rules. */
function templateName(instance: string, tag: string): string {
  const text = `${instance}-${tag}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40)
    .replace(/-+$/, "");
  return "name" in tryInstanceName(text) ? text : "imported";
}

/**
 * `snapvm fork s3://BUCKET/KEY NEW [--count N]`: the bundle is imported once, as a stopped template
 * instance (`--template NAME`, default `<instance>-<tag>` of the bundle), and forks come from its
 * snapshot. Run again with the same object (same URL, ETag and size), the earlier import is used and
 * nothing is downloaded.
 */
export async function importForFork(
  url: string,
  options: S3Options & { home?: string; template?: string; identities?: readonly Identity[]; onProgress?: (step: string) => void },
): Promise<RemoteForkSource> {
  const endpoint = parseEndpoint(url);
  if (endpoint.kind !== "s3") throw new SnapvmError(ErrorCode.InvalidArgument, `fork takes NAME@TAG or s3://BUCKET/KEY, not ${url}`);
  const connection = await connect(options);
  const facts = await headObject(connection, endpoint.location);
  const origin: Required<ImportOrigin> = { url, etag: facts.etag ?? "", sizeBytes: facts.size };
  const earlier = await earlierImport(options.home, origin);
  if (earlier !== undefined) {
    options.onProgress?.(`using ${earlier}, imported from ${url} before`);
    return { source: earlier, imported: false };
  }
  const result = await importBundle(endpoint, {
    origin,
    defaultName: (manifest) => templateName(manifest.source.instance, manifest.source.tag),
    ...(options.template === undefined ? {} : { as: options.template }),
    ...(options.home === undefined ? {} : { home: options.home }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.identities === undefined ? {} : { identities: options.identities }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  return { source: `${result.name}@${result.tag}`, imported: true };
}
