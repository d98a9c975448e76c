import { openSync, closeSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import type { Readable, Writable } from "node:stream";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

/** A passphrase is a line; a longer one is refused rather than buffered without bound. */
const MAX_PASSPHRASE = 1024;

/**
 * Reads one line from `input` without echo (the terminal is put in raw mode when it is one), writing
 * the prompt to `output`. Enter ends it, backspace deletes, Ctrl-C or Ctrl-D refuse.
 */
export function readSecretLine(input: Readable & { setRawMode?: (raw: boolean) => unknown }, output: Writable, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    output.write(prompt);
    input.setRawMode?.(true);
    const finish = (error?: SnapvmError): void => {
      input.off("data", onData);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString("utf8")) {
        let error: SnapvmError | undefined;
        if (char === "\r" || char === "\n") {
          finish();
          return;
        }
        if (char === "\u0003" || char === "\u0004") error = new SnapvmError(ErrorCode.Interrupted, "no passphrase was given");
        else if (char === "\u007f" || char === "\b") text = text.slice(0, -1);
        else text += char;
        if (text.length > MAX_PASSPHRASE) error = new SnapvmError(ErrorCode.InvalidArgument, `a passphrase is at most ${MAX_PASSPHRASE} characters`);
        if (error !== undefined) {
          finish(error);
          return;
        }
      }
    };
    input.on("data", onData);
    input.resume();
  });
}

/** On the controlling terminal (/dev/tty), as age does: standard input and output may carry the bundle. */
async function onTerminal<T>(use: (input: ReadStream, output: WriteStream) => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch (cause) {
    throw new SnapvmError(ErrorCode.InvalidArgument, "--passphrase needs a terminal to ask on", { hint: "Give --passphrase-file FILE instead.", cause });
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  try {
    return await use(input, output);
  } finally {
    input.destroy();
    closeSync(fd);
  }
}

/** Asks for a new passphrase twice (they must match), for encryption. */
export function promptNewPassphrase(): Promise<string> {
  return onTerminal(async (input, output) => {
    const first = await readSecretLine(input, output, "passphrase: ");
    if (first === "") throw new SnapvmError(ErrorCode.InvalidArgument, "the passphrase is empty");
    const again = await readSecretLine(input, output, "the same again: ");
    if (again !== first) throw new SnapvmError(ErrorCode.InvalidArgument, "the two passphrases differ");
    return first;
  });
}

/** Asks for the passphrase once, for decryption. */
export function promptPassphrase(): Promise<string> {
  return onTerminal((input, output) => readSecretLine(input, output, "passphrase: "));
}
