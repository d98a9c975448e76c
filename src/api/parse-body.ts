import type { Context } from "hono";
import type { z } from "zod";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * A request's JSON body parsed with its zod schema; an unreadable or invalid body is E_INVALID_ARGUMENT
 * naming every problem with its path. Shared by the agent's /v1 and the dashboard's /api, whose routes
 * cap the body's size before this runs.
 */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const raw: unknown = await c.req.json().catch(() => undefined);
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid request to ${c.req.path}: ${problems}`);
  }
  return result.data;
}
