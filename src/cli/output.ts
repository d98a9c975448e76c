import { ErrorCode, isSnapvmError } from "../errors/index.ts";

/**
 * The only place that writes results to stdout. Commands return data; this prints it as JSON
 * (with --json) or through the command's own formatter.
 */
export function printResult<T>(value: T, json: boolean, format: (value: T) => string): void {
  const text = json ? JSON.stringify(value, null, 2) : format(value);
  if (text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** One record of a JSON-lines output (`logs --json`): compact, one line each. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A log's bytes exactly as they are (`logs` without --json). */
export function printChunk(chunk: Buffer): void {
  process.stdout.write(chunk);
}

/** Progress and notices go to stderr so stdout stays parseable; silent when stderr is not a TTY unless asked. */
export function notice(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** User errors print without a stack: code, message, hint. Bugs print their stack. */
export function printError(error: unknown, json: boolean): number {
  if (isSnapvmError(error)) {
    if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
    else {
      process.stderr.write(`snapvm: ${error.message} [${error.code}]\n`);
      if (error.hint !== undefined) process.stderr.write(`  hint: ${error.hint}\n`);
    }
    return 1;
  }
  // A bug: the stack goes to stderr; under --json stdout still gets an error object scripts can parse.
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: ErrorCode.Internal, message, details: {} } }, null, 2)}\n`);
  process.stderr.write(`snapvm: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 70;
}
