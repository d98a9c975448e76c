import { StringDecoder } from "node:string_decoder";

/**
 * Lines longer than this (in UTF-16 code units) are dropped and reported rather than buffered,
 * so a runaway peer cannot exhaust memory. query-qmp-schema, the largest reply, is ~0.3 MB.
 */
export const MAX_LINE_LENGTH = 64 * 1024 * 1024;

export type FramingProblem = "line-too-long";

/**
 * Splits QMP's newline-delimited stream into lines. Chunks may split a line (or a UTF-8
 * sequence) anywhere or carry several lines; `push` returns only complete lines, without the
 * trailing "\r\n" or "\n", and never returns empty lines.
 */
export class LineDecoder {
  readonly #decoder = new StringDecoder("utf8");
  readonly #maxLineLength: number;
  readonly #onProblem: (problem: FramingProblem, preview: string) => void;
  #partial = "";
  #discarding = false;

  constructor(options: { maxLineLength?: number; onProblem?: (problem: FramingProblem, preview: string) => void } = {}) {
    this.#maxLineLength = options.maxLineLength ?? MAX_LINE_LENGTH;
    this.#onProblem = options.onProblem ?? (() => undefined);
  }

  push(chunk: Buffer): string[] {
    return this.#split(this.#decoder.write(chunk), false);
  }

  /** Ends the stream: a final line without a newline is still returned. */
  end(): string[] {
    return this.#split(this.#decoder.end(), true);
  }

  #split(text: string, final: boolean): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const piece = text.slice(start, newline);
      start = newline + 1;
      if (this.#discarding) {
        this.#discarding = false;
        continue;
      }
      this.#keep(lines, this.#partial + piece);
      this.#partial = "";
    }
    if (!this.#discarding) this.#partial += text.slice(start);
    if (this.#partial.length > this.#maxLineLength) {
      this.#onProblem("line-too-long", this.#partial.slice(0, 200));
      this.#partial = "";
      this.#discarding = true;
    }
    if (final) {
      if (!this.#discarding) this.#keep(lines, this.#partial);
      this.#partial = "";
      this.#discarding = false;
    }
    return lines;
  }

  #keep(lines: string[], line: string): void {
    if (line.length > this.#maxLineLength) {
      this.#onProblem("line-too-long", line.slice(0, 200));
      return;
    }
    const trimmed = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (trimmed.trim() !== "") lines.push(trimmed);
  }
}
