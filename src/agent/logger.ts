import { pino } from "pino";

export type Logger = ReturnType<typeof createLogger>;

/** JSON lines on stderr, which the spawner points at agent.log. Synchronous so nothing is lost on exit. */
export function createLogger(instance: string): pino.Logger {
  return pino({ base: { instance }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}
