/** Splits a byte stream into lines; chunks may split or join lines anywhere. */
export class LineReader {
  private partial = "";
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const lines = (this.partial + chunk.toString()).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.onLine(line);
  }
}
