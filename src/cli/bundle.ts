import { parseEndpoint } from "../instance/bundles/endpoints.ts";
import { exportSnapshot } from "../instance/bundles/export.ts";
import { generateKeyFile, readIdentities, readRecipients } from "../instance/bundles/keys.ts";
import { importBundle } from "../instance/bundles/import.ts";
import { parseInstanceName, parseSnapshotTag } from "../paths/index.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

export interface ExportFlags {
  to: string;
  recipient?: string[];
  recipientFile?: string[];
  passphraseFile?: string;
  endpoint?: string;
  level?: number;
  json?: true;
}

export async function snapshotExportCommand(nameText: string, tagText: string, flags: ExportFlags): Promise<void> {
  const [name, tag] = [parseInstanceName(nameText), parseSnapshotTag(tagText)];
  const endpoint = parseEndpoint(flags.to);
  const recipients = await readRecipients(flags);
  const r = await withProgress(name, (progress) =>
    exportSnapshot(name, tag, endpoint, {
      recipients,
      onProgress: progress.step,
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
      ...(flags.level === undefined ? {} : { level: flags.level }),
    }),
  );
  const line = `${r.instance}@${r.tag} → ${r.to}: ${bytes(r.sentBytes)} sent${r.encrypted ? " (age-encrypted)" : ""}, ${bytes(r.dataBytes)} of data in ${r.files.length} files, ${ms(r.totalMs)} (${r.megabytesPerSecond.toFixed(0)} MiB/s)`;
  // The bundle itself is on standard output: the summary goes to standard error.
  if (endpoint.kind === "stdio") process.stderr.write(`${flags.json === true ? JSON.stringify(r) : line}\n`);
  else printResult(r, flags.json === true, () => line);
}

export interface ImportFlags {
  as?: string;
  identity?: string[];
  passphraseFile?: string;
  endpoint?: string;
  json?: true;
}

export async function snapshotImportCommand(source: string, flags: ImportFlags): Promise<void> {
  const endpoint = parseEndpoint(source);
  const identities = await readIdentities(flags.identity ?? [], flags.passphraseFile);
  const r = await withProgress(flags.as ?? "import", (progress) =>
    importBundle(endpoint, {
      identities,
      onProgress: progress.step,
      ...(flags.as === undefined ? {} : { as: flags.as }),
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    }),
  );
  printResult(
    r,
    flags.json === true,
    () =>
      `imported ${r.from.instance}@${r.from.tag} (from ${r.from.host}) as ${r.name}@${r.tag}: ${bytes(r.dataBytes)} of data${r.encrypted ? ", decrypted" : ""}, ${ms(r.totalMs)}; next: snapvm snapshot restore ${r.name} ${r.tag}, or snapvm fork ${r.name}@${r.tag} NEW`,
  );
}

export async function keyGenerateCommand(flags: { out: string; json?: true }): Promise<void> {
  const r = await generateKeyFile(flags.out);
  printResult(r, flags.json === true, () => `wrote ${r.identityFile} (0600); public key (give it to --recipient): ${r.recipient}`);
}
