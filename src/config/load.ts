import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { isAlias, LineCounter, parseDocument, visit, type Document } from "yaml";
import { locate } from "./locate.ts";
import { configError, formatPath, type ConfigProblem } from "./problems.ts";
import { resolveConfig } from "./resolve.ts";
import type { ConfigFile, InstanceConfig } from "./types.ts";
import { validateConfigValue } from "./validate.ts";

/** Checked before reading: a config is a few hundred bytes; anything this big is the wrong file. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Parses and validates snapvm.yaml text. Returns the persisted shape (no defaults filled in).
 * Throws one SnapvmError(InvalidConfig) listing every problem as `sourceName:line:col: path: message`.
 * YAML syntax errors are reported first and alone: values in a broken document are guesses.
 * Never throws anything else for any input text (a fuzz test holds it to that).
 */
export function parseConfigText(text: string, sourceName: string): ConfigFile {
  const lineCounter = new LineCounter();
  // logLevel "error": warnings must not reach the console (process.emitWarning), but "silent" would
  // also drop the "multiple documents" error.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  const at = (offset: number, message: string): ConfigProblem => ({ file: sourceName, ...lineCounter.linePos(offset), path: "", message });

  const syntax = doc.errors.map((error) => at(error.pos[0], error.message));
  syntax.push(...unresolvedAliases(doc).map(({ offset, name }) => at(offset, `alias *${name} refers to no anchor &${name} before it`)));
  if (syntax.length > 0) throw configError(sourceName, syntax);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml throws ReferenceError for alias bombs ("Excessive alias count ..."); nothing else is expected.
    if (!(error instanceof ReferenceError)) throw error;
    throw configError(sourceName, [at(0, error.message)]);
  }

  const result = validateConfigValue(value);
  if (result.ok) return result.file;
  throw configError(
    sourceName,
    result.issues.map((issue) => ({
      file: sourceName,
      ...locate(doc, lineCounter, issue.path, issue.atKey),
      path: formatPath(issue.path),
      message: issue.message,
    })),
  );
}

/** Aliases whose anchor is not defined earlier in the document; yaml reports these only when converting. */
function unresolvedAliases(doc: Document): { offset: number; name: string }[] {
  const anchors = new Set<string>();
  const missing: { offset: number; name: string }[] = [];
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) missing.push({ offset: node.range?.[0] ?? 0, name: node.source });
      } else if (node.anchor !== undefined) {
        anchors.add(node.anchor);
      }
    },
  });
  return missing;
}

/**
 * Reads and validates a config file; the persisted shape, for callers that edit and rewrite it.
 * File system errors (ENOENT, EACCES) propagate unchanged so callers can tell "no config" apart.
 */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  return parseConfigText(await readCapped(path), path);
}

/**
 * Reads, validates and resolves a config file: defaults filled in, a relative image path resolved
 * against the file's directory. Errors as readConfigFile.
 */
export async function loadConfigFile(path: string): Promise<InstanceConfig> {
  return resolveConfig(await readConfigFile(path), { baseDir: dirname(path), sourceName: path });
}

async function readCapped(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > CONFIG_FILE_MAX_BYTES) {
      throw configError(path, [{ file: path, path: "", message: `the file is ${size} bytes; a config is at most ${CONFIG_FILE_MAX_BYTES}` }]);
    }
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
