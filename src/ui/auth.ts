import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { tokenMatches } from "./token.ts";

/** Header a state-changing request must carry the token in (a cookie alone would allow cross-site requests). */
export const TOKEN_HEADER = "x-snapvm-token";
export const TOKEN_QUERY = "token";

/** One cookie per port: two dashboards on one host must not overwrite each other's token. */
export function cookieName(port: number): string {
  return `snapvm_ui_${port}`;
}

function unauthorized(reason: string): SnapvmError {
  return new SnapvmError(ErrorCode.UiUnauthorized, `the dashboard refused the request: ${reason}`, {
    hint: "Open the URL `snapvm ui` printed (it carries the token).",
    details: { reason },
  });
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * Every request needs the token. GET and HEAD may carry it as ?token= (the printed URL; it is then
 * kept in an HttpOnly, SameSite=Strict cookie so the page's own assets load) or the cookie; any other
 * method needs the header, which a cross-site form or image cannot set.
 */
export function requireToken(token: string, port: number): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header(TOKEN_HEADER);
    if (tokenMatches(header, token)) return next();
    if (!SAFE_METHODS.has(c.req.method)) {
      throw unauthorized(header === undefined ? `a ${c.req.method} request needs the token in the ${TOKEN_HEADER} header` : "wrong token");
    }
    const query = c.req.query(TOKEN_QUERY);
    if (tokenMatches(query, token)) {
      setCookie(c, cookieName(port), token, { httpOnly: true, sameSite: "Strict", path: "/" });
      return next();
    }
    if (tokenMatches(getCookie(c, cookieName(port)), token)) return next();
    throw unauthorized(query === undefined ? "no token" : "wrong token");
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

/**
 * A websocket upgrade needs the token (query or cookie: browsers cannot set headers on one) and an
 * Origin equal to the dashboard's own, so another site open in the browser cannot attach to a console.
 * Returns why it is refused, or undefined.
 */
export function refuseUpgrade(request: IncomingMessage, token: string, port: number): { status: 401 | 403; reason: string } | undefined {
  const url = new URL(request.url ?? "/", "http://dashboard");
  const given = url.searchParams.get(TOKEN_QUERY) ?? cookieValue(request.headers.cookie, cookieName(port));
  if (!tokenMatches(given, token)) return { status: 401, reason: "no or wrong token" };
  const origin = request.headers.origin;
  if (origin === undefined || origin !== `http://${request.headers.host ?? ""}`)
    return { status: 403, reason: `origin ${origin ?? "(none)"} is not this dashboard` };
  return undefined;
}
