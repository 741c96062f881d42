/**
 * The one HTTP client of the frontend: a typed fetch wrapper for the Django JSON API.
 * New frontend code calls the server through this module (feature modules wrap it in typed
 * functions, e.g. labeling/core/api.ts, quality/api.ts, data/imports.ts); never a raw `fetch`.
 *
 * - CSRF: the `csrftoken` cookie goes out as `X-CSRFToken` on every unsafe method.
 * - Errors: every failure, including a network error, is raised as an `ApiError` carrying the
 *   server's machine-readable `code`, human `detail`, and the whole error body.
 * - Outages: a 503 with `Retry-After` (PostgreSQL or Redis down, core/outage.py) is retried after
 *   the delay the server asked for (capped), a few times, before it is raised.
 */

export type FieldErrors = Readonly<Record<string, readonly string[]>>;

/** Error body the server sends with every non-2xx response. */
interface ErrorBody {
  code: string;
  detail: string;
  errors?: FieldErrors;
  /** The whole body as sent. */
  record: Record<string, unknown>;
}

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    /** HTTP status; 0 when the request never got a response. */
    readonly status: number,
    /** Machine-readable code, e.g. "validation_error" or "http_500". */
    readonly code: string,
    /** Human-readable message, safe to show to the user. */
    readonly detail: string,
    /** Per-field messages; empty when the server sent none. */
    readonly errors: FieldErrors = {},
    /** The whole JSON error body (e.g. `guideline_version`, the `errors[]` list of invalid_annotation). */
    readonly body: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
  }

  /** The `errors[]` list of `{path, code, message}` problems some endpoints send (invalid_annotation). */
  get problems(): ApiProblem[] {
    const errors = this.body.errors;
    if (!Array.isArray(errors)) return [];
    return errors
      .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
      .map((e) => ({ path: String(e.path ?? ""), code: String(e.code ?? ""), message: String(e.message ?? "") }));
  }

  /** Worth retrying later: offline, a timeout or a server error. */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface ApiProblem {
  path: string;
  code: string;
  message: string;
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RequestOptions {
  /** Serialized as JSON (a `FormData` is sent as multipart, unchanged). */
  body?: unknown;
  signal?: AbortSignal;
  /** Extra headers, e.g. `Idempotency-Key`. */
  headers?: Readonly<Record<string, string>>;
  /** Lets the request outlive the page (a last draft save on `pagehide`). */
  keepalive?: boolean;
  /** The transport; the global `fetch` unless a test injects one. */
  fetch?: FetchLike;
  /** Waits between retries; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** A 503 with Retry-After is retried at most this many times... */
export const OUTAGE_RETRIES = 2;
/** ...waiting what the server asked, but never longer than this per retry. */
export const OUTAGE_MAX_WAIT_MS = 10_000;

// Methods Django's CsrfViewMiddleware does not check (RFC 9110 "safe").
const SAFE_METHODS: ReadonlySet<HttpMethod> = new Set(["GET", "HEAD"]);

/** Reads a cookie value; `undefined` when absent. */
export function readCookie(name: string, cookies: string = document.cookie): string | undefined {
  for (const pair of cookies.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) {
      return decodeURIComponent(pair.slice(eq + 1).trim());
    }
  }
  return undefined;
}

/**
 * Sends a same-origin JSON request and returns the parsed JSON response body
 * (`undefined` for an empty body, e.g. 204). Throws `ApiError` otherwise.
 */
export async function request<T>(method: HttpMethod, url: string, options: RequestOptions = {}): Promise<T> {
  const { response, text } = await send(method, url, options, "application/json");
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "invalid_response", "The server sent a response that could not be read.");
  }
}

/**
 * Posts a form (a server-rendered page's own `<form>`, CSRF field included) and returns the HTML
 * the server answered; a non-2xx answer is an `ApiError` like any other.
 */
export async function postForm(url: string, data: FormData, options: Omit<RequestOptions, "body"> = {}): Promise<string> {
  const { text } = await send("POST", url, { ...options, body: data }, "text/html");
  return text;
}

async function send(
  method: HttpMethod,
  url: string,
  { body, signal, headers: extra = {}, keepalive, fetch: transport, sleep = wait }: RequestOptions,
  accept: string,
): Promise<{ response: Response; text: string }> {
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  const headers: Record<string, string> = { Accept: accept, ...extra };
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const token = readCookie("csrftoken");
    if (token !== undefined) headers["X-CSRFToken"] = token;
  }
  const init: RequestInit = {
    method,
    headers,
    body: body === undefined ? undefined : form ? (body as FormData) : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  };
  if (keepalive) init.keepalive = true;

  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await (transport ?? fetch)(url, init);
    } catch (error) {
      // Aborts are the caller's own doing; let them propagate unchanged.
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network_error", "Could not reach the server. Check your connection and try again.");
    }
    const text = await response.text();
    if (response.ok) return { response, text };
    const delay = response.status === 503 ? retryAfterMs(response.headers.get("Retry-After")) : undefined;
    if (delay === undefined || attempt >= OUTAGE_RETRIES || signal?.aborted) throw errorFromResponse(response, text);
    await sleep(Math.min(delay, OUTAGE_MAX_WAIT_MS));
  }
}

/** Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date); `undefined` without one. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const get = <T>(url: string, options?: Omit<RequestOptions, "body">) => request<T>("GET", url, options);
export const post = <T>(url: string, body?: unknown, signal?: AbortSignal) => request<T>("POST", url, { body, signal });
export const put = <T>(url: string, body?: unknown, signal?: AbortSignal) => request<T>("PUT", url, { body, signal });
export const patch = <T>(url: string, body?: unknown, signal?: AbortSignal) => request<T>("PATCH", url, { body, signal });
export const del = <T = void>(url: string, signal?: AbortSignal) => request<T>("DELETE", url, { signal });

function errorFromResponse(response: Response, text: string): ApiError {
  const body = parseErrorBody(text);
  if (body === undefined) {
    // Not our JSON error shape: a proxy error page, a Django debug page, ...
    const detail = response.statusText || `Request failed with status ${response.status}.`;
    return new ApiError(response.status, `http_${response.status}`, detail);
  }
  return new ApiError(response.status, body.code, body.detail, body.errors, body.record);
}

function parseErrorBody(text: string): ErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.code !== "string" || typeof value.detail !== "string") {
    return undefined;
  }
  return { code: value.code, detail: value.detail, errors: parseFieldErrors(value.errors), record: value };
}

/** Keeps only well-formed `{field: [message, ...]}` entries. */
function parseFieldErrors(value: unknown): FieldErrors {
  if (!isRecord(value)) return {};
  const errors: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(value)) {
    if (Array.isArray(messages) && messages.every((m) => typeof m === "string")) {
      errors[field] = messages;
    }
  }
  return errors;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
