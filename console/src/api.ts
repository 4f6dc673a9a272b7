// The API client. Tokens live in this module's memory only (never localStorage or cookies): a
// reload means logging in again. The access token is refreshed a minute before it expires and
// once more on a 401; logout revokes the refresh token's whole session family.

export interface FieldError {
  pointer: string;
  detail: string;
}

export class Problem extends Error {
  constructor(
    public status: number,
    public title: string,
    public detail: string,
    public type: string,
    public errors: FieldError[] = [],
    public body: Record<string, unknown> = {},
  ) {
    super(detail || title);
  }
}

export interface Reply<T> {
  status: number;
  data: T;
  etag: string | null;
}

interface TokenPair {
  access_token: string;
  access_token_expires_at: string;
  refresh_token: string;
}

let access: string | null = null;
let refreshToken: string | null = null;
let refreshTimer: number | undefined;
let elevated: { token: string; expires: number } | null = null;
let onSignedOut: () => void = () => {};

export const signedIn = (): boolean => access !== null;
export const whenSignedOut = (f: () => void): void => {
  onSignedOut = f;
};

function store(pair: TokenPair): void {
  access = pair.access_token;
  refreshToken = pair.refresh_token;
  window.clearTimeout(refreshTimer);
  const ms = new Date(pair.access_token_expires_at).getTime() - Date.now() - 60_000;
  refreshTimer = window.setTimeout(() => void refresh(), Math.max(ms, 5_000));
}

function forget(): void {
  access = null;
  refreshToken = null;
  elevated = null;
  window.clearTimeout(refreshTimer);
}

async function toProblem(r: Response): Promise<Problem> {
  let body: Record<string, unknown> = {};
  try {
    body = await r.json();
  } catch {
    /* not JSON */
  }
  const errors = Array.isArray(body.errors)
    ? (body.errors as Record<string, string>[]).map((e) => ({
        pointer: e.pointer ?? "",
        detail: e.detail ?? e.message ?? "",
      }))
    : [];
  return new Problem(
    r.status,
    String(body.title ?? r.statusText),
    String(body.detail ?? ""),
    String(body.type ?? ""),
    errors,
    body,
  );
}

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { accept: "application/json", ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  return fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
}

async function refresh(): Promise<boolean> {
  if (!refreshToken) return false;
  const r = await raw("POST", "/api/v1/auth/refresh", { refresh_token: refreshToken });
  if (!r.ok) {
    forget();
    onSignedOut();
    return false;
  }
  store(await r.json());
  return true;
}

export interface CallOptions {
  body?: unknown;
  ifMatch?: string | null;
  /** Send the elevated token (deletes, policy activation). */
  elevated?: boolean;
}

export async function call<T = unknown>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const url = path.startsWith("/") ? path : `/api/v1/${path}`;
  const send = () => {
    const headers: Record<string, string> = {};
    const token = opts.elevated ? elevated?.token : access;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.ifMatch) headers["if-match"] = opts.ifMatch;
    return raw(method, url, opts.body, headers);
  };
  let r = await send();
  if (r.status === 401 && !opts.elevated && refreshToken && (await refresh())) r = await send();
  if (!r.ok) throw await toProblem(r);
  const text = r.status === 204 ? "" : await r.text();
  return { status: r.status, data: (text ? JSON.parse(text) : null) as T, etag: r.headers.get("etag") };
}

export const get = <T>(path: string) => call<T>("GET", path);

/** Logs in; answers the MFA token when a TOTP code is needed next. */
export async function login(username: string, password: string): Promise<string | null> {
  const r = await raw("POST", "/api/v1/auth/login", { username, password });
  if (!r.ok) throw await toProblem(r);
  const body = await r.json();
  if (body.mfa_required) return body.mfa_token as string;
  store(body);
  return null;
}

export async function loginMfa(mfaToken: string, code: string): Promise<void> {
  const r = await raw("POST", "/api/v1/auth/login/mfa", { mfa_token: mfaToken, code });
  if (!r.ok) throw await toProblem(r);
  store(await r.json());
}

export async function logout(): Promise<void> {
  const token = refreshToken;
  forget();
  if (token) await raw("POST", "/api/v1/auth/logout", { refresh_token: token }).catch(() => undefined);
}

export const hasElevation = (): boolean => elevated !== null && elevated.expires - Date.now() > 10_000;

export async function elevate(password: string, code?: string): Promise<void> {
  const body: Record<string, string> = { password };
  if (code) body.code = code;
  const r = await call<{ elevated_token: string; elevated_token_expires_at: string }>("POST", "auth/elevate", { body });
  elevated = { token: r.data.elevated_token, expires: new Date(r.data.elevated_token_expires_at).getTime() };
}

export function dropElevation(): void {
  elevated = null;
}
