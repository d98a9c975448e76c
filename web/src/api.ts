import type { UiErrorBody } from "../../src/ui/wire.ts";

/** The token arrives once in the URL (?token=); it is kept for this tab and removed from the address bar. */
function takeToken(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    sessionStorage.setItem("snapvm-token", fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return fromUrl ?? sessionStorage.getItem("snapvm-token") ?? "";
}

const token = takeToken();

/** An error from the dashboard's API, with the snapvm error code (E_…) it carries. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Calls /api; state-changing requests carry the token in the header the server requires. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api${path}`, {
    method,
    headers: { "x-snapvm-token": token, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const error = (parsed as Partial<UiErrorBody> | undefined)?.error;
    throw new ApiError(error?.code ?? `HTTP ${response.status}`, error?.message ?? response.statusText, error?.hint);
  }
  return parsed as T;
}

export const enc = encodeURIComponent;
