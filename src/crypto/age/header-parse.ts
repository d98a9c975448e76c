import { decodeBase64 } from "./base64.ts";
import { BODY_COLUMNS, MAX_HEADER_SIZE, MAX_STANZAS, VERSION_LINE, VERSION_PREFIX } from "./constants.ts";
import { decryptError } from "./errors.ts";
import type { Stanza } from "./stanza.ts";

export interface ParsedHeader {
  readonly stanzas: readonly Stanza[];
  /** The header bytes up to and including `---`: what the MAC covers. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
}

const PREFIX = Buffer.from(VERSION_PREFIX, "latin1");
const ARGUMENT = /^[\x21-\x7e]+$/;
const BODY_LINE = /^[A-Za-z0-9+/]*$/;
const MAC_LINE = /^--- ([A-Za-z0-9+/]{43})$/;

/**
 * False as soon as the first bytes cannot start an age file, so a stream of something else fails on its
 * first bytes instead of after MAX_HEADER_SIZE.
 */
export function canStartHeader(head: Buffer): boolean {
  const n = Math.min(head.length, PREFIX.length);
  return head.subarray(0, n).equals(PREFIX.subarray(0, n));
}

/**
 * Finds the length of the header (through the LF of the `---` line) in a buffer that grows between
 * calls, scanning each byte once. The first line starting with `---` ends the header: no other header
 * line may start with `-` except `->`. Only the first MAX_HEADER_SIZE bytes are ever looked at.
 */
export class HeaderEndFinder {
  #mark: number | undefined;
  #scanned = 0;

  find(head: Buffer): number | undefined {
    const view = head.subarray(0, Math.min(head.length, MAX_HEADER_SIZE));
    if (this.#mark === undefined) {
      const mark = view.indexOf("\n---", Math.max(0, this.#scanned - 3), "latin1");
      if (mark < 0) {
        this.#scanned = view.length;
        return undefined;
      }
      this.#mark = mark;
      this.#scanned = mark + 1;
    }
    const lf = view.indexOf(0x0a, Math.max(this.#mark + 1, this.#scanned));
    this.#scanned = view.length;
    return lf < 0 ? undefined : lf + 1;
  }
}

function fail(message: string, line: number): never {
  throw decryptError("header", `malformed header, line ${line}: ${message}`, { details: { line } });
}

/** Parses the body lines of the stanza starting at lines[start]; returns the body and the next line index. */
function parseBody(lines: readonly string[], start: number): { body: Buffer; next: number } {
  const parts: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.length > BODY_COLUMNS || !BODY_LINE.test(line)) fail("stanza body line is not base64 of at most 64 columns", i + 1);
    parts.push(line);
    if (line.length < BODY_COLUMNS) {
      const body = decodeBase64(parts.join(""));
      if (body === undefined) fail("stanza body is not canonical base64", i + 1);
      return { body, next: i + 1 };
    }
  }
  return fail("stanza body has no final short line", lines.length);
}

/**
 * Strict parse of a complete header (as delimited by HeaderEndFinder). Raw bytes are kept for the MAC;
 * that is sound only because every accepted header is canonical (one encoding per header).
 */
export function parseHeader(header: Buffer): ParsedHeader {
  const lines = header.toString("latin1").split("\n");
  lines.pop(); // "" after the final LF
  const version = lines[0] ?? "";
  if (version !== VERSION_LINE) {
    if (version.startsWith(VERSION_PREFIX)) {
      throw decryptError("header", `unsupported format version "${version.slice(0, 64)}"`, {
        hint: "only age v1 (age-encryption.org/v1) is supported",
      });
    }
    fail("not an age v1 file (no age-encryption.org/v1 line)", 1);
  }
  const stanzas: Stanza[] = [];
  let i = 1;
  for (;;) {
    const line = lines[i] ?? "";
    if (line.startsWith("---")) break;
    if (!line.startsWith("-> ")) fail("expected a stanza (-> …) or the MAC line (--- …)", i + 1);
    const args = line.slice(3).split(" ");
    if (!args.every((arg) => ARGUMENT.test(arg))) fail("stanza arguments must be non-empty printable ASCII", i + 1);
    if (stanzas.length === MAX_STANZAS) fail(`more than ${MAX_STANZAS} recipient stanzas`, i + 1);
    const { body, next } = parseBody(lines, i + 1);
    const [type = "", ...rest] = args;
    stanzas.push({ type, args: rest, body });
    i = next;
  }
  if (stanzas.length === 0) fail("the header has no recipient stanza", i + 1);
  const macLine = lines[i] ?? "";
  const match = MAC_LINE.exec(macLine);
  const mac = match?.[1] === undefined ? undefined : decodeBase64(match[1]);
  if (mac === undefined) fail("the MAC line is not `--- ` and 43 canonical base64 characters", i + 1);
  const macInputLength = header.length - macLine.length - 1 + 3;
  return { stanzas, macInput: header.subarray(0, macInputLength), mac };
}
