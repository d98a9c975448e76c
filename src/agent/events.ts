import { appendFileSync } from "node:fs";

/**
 * The instance's event log: one JSON object per line, appended synchronously so an event written
 * before a crash is on disk. Read by `snapvm logs --events` and by tests.
 */
export class EventLog {
  constructor(private readonly path: string) {}

  write(event: string, data: Record<string, unknown> = {}): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), event, ...data })}\n`);
  }
}
