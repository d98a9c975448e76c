import { open } from "node:fs/promises";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import { splitShellWords } from "./shell-words.ts";

/** An argv file is a few KiB; anything larger is not one and is refused before parsing. */
export const ARGV_FILE_MAX_BYTES = 1024 * 1024;

export interface ArgvSource {
  /** A JSON file: an array of strings, or an object with an `argv` array (an instance's boot/launch.json). */
  argvFile?: string;
  /** One shell-quoted string, e.g. pasted from the script that ran QEMU. */
  qemuArgs?: string;
}

function invalid(message: string, hint: string): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, message, { hint });
}

const ARRAY_HINT = 'Write the arguments as a JSON array of strings, e.g. ["-name", "snapvm-web", "-m", "512M", …], or give an instance\'s boot/launch.json.';

/** The QEMU arguments from exactly one of --from-argv and --qemu-args. */
export async function readSourceArgv(source: ArgvSource): Promise<string[]> {
  if ((source.argvFile === undefined) === (source.qemuArgs === undefined)) {
    throw invalid(
      "import-state needs the QEMU arguments the stream was saved with: give exactly one of --from-argv and --qemu-args",
      "A state loads only into QEMU with the same devices and memory; the arguments say which.",
    );
  }
  if (source.qemuArgs !== undefined) return splitShellWords(source.qemuArgs);
  return parseArgvJson(await readSmallFile(source.argvFile ?? ""), source.argvFile ?? "");
}

async function readSmallFile(path: string): Promise<string> {
  try {
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      if (size > ARGV_FILE_MAX_BYTES) throw invalid(`${path} is ${size} bytes, more than the ${ARGV_FILE_MAX_BYTES} an argv file may be`, ARRAY_HINT);
      return await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isErrno(error, "ENOENT")) throw invalid(`${path} does not exist`, ARRAY_HINT);
    throw error;
  }
}

/** Pure: the text of an argv file → the arguments. */
export function parseArgvJson(text: string, path: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `${path} is not valid JSON: ${(error as Error).message}`, { hint: ARRAY_HINT, cause: error });
  }
  const argv: unknown = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)["argv"] : parsed;
  if (!Array.isArray(argv) || !argv.every((a): a is string => typeof a === "string")) {
    throw invalid(`${path} is neither a JSON array of strings nor an object with an "argv" array of strings`, ARRAY_HINT);
  }
  return argv;
}
