import { writeSync } from "node:fs";

/**
 * The agent's log: JSON lines on stderr (the spawner points it at agent.log), in pino's layout
 * (`level`, `time`, bindings, fields, `msg`) so pino's tools read it. Written synchronously so
 * nothing is lost when the agent exits or is killed. Hand-written rather than pino itself because
 * the agent is on the resume path and importing pino cost 60–70 ms of start-up here.
 */
export interface Logger {
  info(fields: Record<string, unknown> | string, msg?: string): void;
  warn(fields: Record<string, unknown> | string, msg?: string): void;
  error(fields: Record<string, unknown> | string, msg?: string): void;
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** Errors become {type, message, stack, code?}: JSON.stringify would print `{}` for them. */
function serialize(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return { type: value.name, message: value.message, stack: value.stack, ...(code === undefined ? {} : { code }) };
}

export function createLogger(instance: string, fd = 2): Logger {
  const write = (level: keyof typeof LEVELS, fields: Record<string, unknown> | string, msg?: string): void => {
    const record: Record<string, unknown> = { level: LEVELS[level], time: new Date().toISOString(), instance };
    if (typeof fields === "string") record["msg"] = fields;
    else {
      for (const [key, value] of Object.entries(fields)) record[key] = serialize(value);
      if (msg !== undefined) record["msg"] = msg;
    }
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
    } catch {
      // A full disk or closed log must not take the VM down with it.
    }
  };
  return {
    info: (fields, msg) => {
      write("info", fields, msg);
    },
    warn: (fields, msg) => {
      write("warn", fields, msg);
    },
    error: (fields, msg) => {
      write("error", fields, msg);
    },
  };
}
