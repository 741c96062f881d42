/**
 * Typed fetch wrapper for the Django JSON API.
 *
 * Every failure, including a network error, is raised as an `ApiError`, so
 * callers have one error type to surface to the user.
 */

export type FieldErrors = Readonly<Record<string, readonly string[]>>;

/** Error body the server sends with every non-2xx response. */
interface ErrorBody {
  code: string;
  detail: string;
  errors?: FieldErrors;
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
  ) {
    super(detail);
  }
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  /** Serialized as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

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
export async function request<T>(
  method: HttpMethod,
  url: string,
  { body, signal }: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const token = readCookie("csrftoken");
    if (token !== undefined) headers["X-CSRFToken"] = token;
  }

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    // Aborts are the caller's own doing; let them propagate unchanged.
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "Could not reach the server. Check your connection and try again.");
  }

  const text = await response.text();
  if (!response.ok) throw errorFromResponse(response, text);
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "invalid_response", "The server sent a response that could not be read.");
  }
}

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
  return new ApiError(response.status, body.code, body.detail, body.errors);
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
  return { code: value.code, detail: value.detail, errors: parseFieldErrors(value.errors) };
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
