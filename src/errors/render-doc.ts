import { ErrorCode } from "./codes.ts";
import { ERROR_DESCRIPTIONS } from "./descriptions.ts";

/**
 * docs/errors.md: every stable code, what it means, and the HTTP status the agent API answers with
 * (given by the caller: the mapping lives with the API). Pure, so a test compares it with the file.
 */
export function renderErrorsDoc(httpStatus: (code: ErrorCode) => number): string {
  const rows = Object.values(ErrorCode).map((code) => `| \`${code}\` | ${httpStatus(code)} | ${ERROR_DESCRIPTIONS[code]} |`);
  return [
    "# snapvm error codes",
    "",
    "Generated from `src/errors/` by `node --import tsx scripts/gen-docs.ts`; a test fails while this file is stale.",
    "",
    "Every error a user sees carries one of these codes: on stderr as `snapvm: MESSAGE [E_CODE]` with a",
    '`hint:` line, under `--json` as `{"error": {"code", "message", "hint", "details"}}` on stdout, and',
    "from the agent API (`/v1`) as the same body with the HTTP status below. Codes are stable: a code is",
    "never reassigned or reused. Exit status: 1 for these errors, 70 for an internal error (a bug).",
    "",
    "| code | HTTP | meaning |",
    "|---|---:|---|",
    ...rows,
    "",
  ].join("\n");
}
