/**
 * qemu-guest-agent's reply framing: one JSON document per line. A reply to `guest-sync-delimited`
 * is preceded by the byte 0xFF, which never occurs in UTF-8 text; whatever came before it (the tail
 * of a reply nobody waits for) is dropped.
 */
export const SYNC_DELIMITER = 0xff;

export interface QgaLine {
  text: string;
  /** The line followed a 0xFF: a guest-sync-delimited reply. */
  delimited: boolean;
}

/** Splits the agent's byte stream into lines; chunks may split or join lines (and UTF-8 sequences) anywhere. */
export class QgaFraming {
  private partial: Buffer = Buffer.alloc(0);
  private delimited = false;

  constructor(private readonly onLine: (line: QgaLine) => void) {}

  push(chunk: Buffer): void {
    let data = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
    for (;;) {
      const newline = data.indexOf(0x0a);
      const delimiter = data.indexOf(SYNC_DELIMITER);
      if (delimiter >= 0 && (newline < 0 || delimiter < newline)) {
        data = data.subarray(delimiter + 1);
        this.delimited = true;
        continue;
      }
      if (newline < 0) break;
      const text = data.subarray(0, newline).toString("utf8").trim();
      data = data.subarray(newline + 1);
      const delimited = this.delimited;
      this.delimited = false;
      if (text !== "") this.onLine({ text, delimited });
    }
    this.partial = Buffer.from(data);
  }
}
