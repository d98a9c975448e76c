import Table from "cli-table3";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { parseEndpoint, type Endpoint } from "../instance/bundles/endpoints.ts";
import { offloadSnapshot } from "../instance/bundles/offload.ts";
import { listRemoteBundles } from "../instance/bundles/remote-list.ts";
import type { Identity, Recipient } from "../crypto/age/index.ts";
import { promptNewPassphrase, promptPassphrase } from "./passphrase-prompt.ts";
import { exportSnapshot, type ExportOptions } from "../instance/bundles/export.ts";
import { generateKeyFile, readIdentities, readRecipients } from "../instance/bundles/keys.ts";
import { importBundle } from "../instance/bundles/import.ts";
import { parseInstanceName, parseSnapshotTag, type InstanceName, type SnapshotTag } from "../paths/index.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

export interface ExportFlags {
  to: string;
  recipient?: string[];
  recipientFile?: string[];
  passphraseFile?: string;
  passphrase?: true;
  endpoint?: string;
  level?: number;
  json?: true;
}

/** The recipients the flags name; --passphrase is asked for here, twice. */
async function recipientsOf(flags: ExportFlags): Promise<Recipient[]> {
  const { passphrase, ...rest } = flags;
  return readRecipients(passphrase === true ? { ...rest, passphrase: await promptNewPassphrase() } : rest);
}

/** The identities the flags name; --passphrase is asked for here, once. */
export async function identitiesOf(flags: { identity?: string[]; passphraseFile?: string; passphrase?: true }): Promise<Identity[]> {
  return readIdentities(flags.identity ?? [], flags.passphraseFile, flags.passphrase === true ? await promptPassphrase() : undefined);
}

/** Ctrl-C (or SIGTERM) during a transfer aborts it cleanly: the destination is left as it was, the guest runs on. */
async function abortable<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = (): void => {
    controller.abort(
      new SnapvmError(ErrorCode.Interrupted, "interrupted: the transfer stopped and its destination was left as it was", {
        hint: "An export to S3 resumes where it stopped when the same command runs again.",
      }),
    );
  };
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    return await run(controller.signal);
  } finally {
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
  }
}

/** Export and live offload alike: parse, ask for a passphrase if told, send with Ctrl-C aborting, print. */
async function send<R extends { to: string }>(
  nameText: string,
  tagText: string,
  flags: ExportFlags,
  run: (name: InstanceName, tag: SnapshotTag, endpoint: Endpoint, options: ExportOptions) => Promise<R>,
  describe: (result: R) => string,
): Promise<void> {
  const [name, tag] = [parseInstanceName(nameText), parseSnapshotTag(tagText)];
  const endpoint = parseEndpoint(flags.to);
  const recipients = await recipientsOf(flags);
  const r = await withProgress(name, (progress) =>
    abortable((signal) =>
      run(name, tag, endpoint, {
        recipients,
        signal,
        onProgress: progress.step,
        ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
        ...(flags.level === undefined ? {} : { level: flags.level }),
      }),
    ),
  );
  // The bundle itself may be on standard output: then the summary goes to standard error.
  const line = describe(r);
  if (endpoint.kind === "stdio") process.stderr.write(`${flags.json === true ? JSON.stringify(r) : line}\n`);
  else printResult(r, flags.json === true, () => line);
}

export async function snapshotExportCommand(nameText: string, tagText: string, flags: ExportFlags): Promise<void> {
  await send(
    nameText,
    tagText,
    flags,
    exportSnapshot,
    (r) =>
      `${r.instance}@${r.tag} → ${r.to}: ${bytes(r.sentBytes)} sent${r.encrypted ? " (age-encrypted)" : ""}, ${bytes(r.dataBytes)} of data in ${r.files.length} files, ${ms(r.totalMs)} (${r.megabytesPerSecond.toFixed(0)} MiB/s)`,
  );
}

/** `snapshot create NAME TAG --to DEST`: the live offload. */
export async function snapshotOffloadCommand(nameText: string, tagText: string, flags: ExportFlags): Promise<void> {
  await send(
    nameText,
    tagText,
    flags,
    offloadSnapshot,
    (r) =>
      `${r.instance}@${r.tag} streamed live → ${r.to}: guest paused ${ms(r.pauseMs)}, ${bytes(r.sentBytes)} sent${r.encrypted ? " (age-encrypted)" : ""}, ${ms(r.totalMs)} (${r.megabytesPerSecond.toFixed(0)} MiB/s); no local snapshot (the disk layer ${r.diskLayer} froze in the chain)`,
  );
}

export interface ImportFlags {
  as?: string;
  identity?: string[];
  passphraseFile?: string;
  passphrase?: true;
  endpoint?: string;
  json?: true;
}

export async function snapshotImportCommand(source: string, flags: ImportFlags): Promise<void> {
  const endpoint = parseEndpoint(source);
  const identities = await identitiesOf(flags);
  const r = await withProgress(flags.as ?? "import", (progress) =>
    importBundle(endpoint, {
      identities,
      onProgress: progress.step,
      ...(flags.as === undefined ? {} : { as: flags.as }),
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    }),
  );
  printResult(r, flags.json === true, () =>
    [
      `imported ${r.from.instance}@${r.from.tag} (from ${r.from.host}) as ${r.name}@${r.tag}: ${bytes(r.dataBytes)} of data${r.encrypted ? ", decrypted" : ""}, ${ms(r.totalMs)}; next: snapvm snapshot restore ${r.name} ${r.tag}, or snapvm fork ${r.name}@${r.tag} NEW`,
      ...(r.notes ?? []),
    ].join("\n"),
  );
}

export async function remoteListCommand(url: string, flags: { endpoint?: string; identity?: string[]; json?: true }): Promise<void> {
  const identities = await identitiesOf(flags);
  const r = await listRemoteBundles(url, { identities, ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }) });
  printResult(r, flags.json === true, () => {
    if (r.bundles.length === 0) return `no objects under ${url}`;
    const table = new Table({ head: ["URL", "SOURCE", "CREATED", "KIND", "MEMORY", "DISK", "SIZE", "ENCRYPTED", "NOTE"], style: { head: [], border: [] } });
    for (const b of r.bundles) {
      table.push([
        b.url,
        b.source === undefined ? "" : `${b.source.instance}@${b.source.tag} (${b.source.host})`,
        (b.createdAt ?? b.lastModified ?? "").replace("T", " ").slice(0, 19),
        b.live === undefined ? "" : b.live ? "live offload" : "snapshot",
        b.memoryBytes === undefined ? "" : bytes(b.memoryBytes),
        b.diskBytes === undefined ? "" : bytes(b.diskBytes),
        bytes(b.sizeBytes),
        b.encrypted ? "age" : "no",
        b.note ?? "",
      ]);
    }
    return `${table.toString()}${r.truncated ? "\n(more objects than the first 1000: narrow the prefix)" : ""}`;
  });
}

export async function keyGenerateCommand(flags: { out: string; json?: true }): Promise<void> {
  const r = await generateKeyFile(flags.out);
  printResult(r, flags.json === true, () => `wrote ${r.identityFile} (0600); public key (give it to --recipient): ${r.recipient}`);
}
