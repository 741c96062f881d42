/**
 * The labeling session's API client (docs/API.md#labeling). Framework-free; `fetch` is injectable.
 * Unlike api/http.ts it keeps the whole error body (`guideline_version`, `errors[]` of
 * invalid_annotation) because the labeling page acts on them.
 */
import type { Result, TaskItem } from "../contract";

export interface ApiProblem {
  path: string;
  code: string;
  message: string;
}

export class SessionError extends Error {
  override readonly name = "SessionError";
  constructor(
    /** 0 when the request never got an answer (offline). */
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }

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

export interface Correction {
  reason: string;
  comment: string;
  reviewer: string;
  at: string;
}

export interface PredictionInfo {
  id: number;
  model_name: string;
  model_version: string;
  score: number | null;
  result: Result;
}

export interface AnnotationInfo {
  id: number;
  item: number;
  annotator: string;
  result: Result;
  revision: number;
  review: string;
  schema_version: number;
  created_at: string;
}

export interface AssignmentInfo {
  id: number;
  status: string;
  item: TaskItem & { external_id?: string; media_type?: string };
  lease_expires_at: string | null;
  draft: Result | null;
  draft_saved_at: string | null;
  active_ms: number;
  schema: { version: number; definition: import("../contract").Definition } | null;
  annotation: AnnotationInfo | null;
  correction: Correction | null;
  prediction: PredictionInfo | null;
}

export interface NextItem {
  assignment: AssignmentInfo | null;
  reason: string;
  resumed: boolean;
}

export interface ReviewTask {
  item: (TaskItem & { external_id?: string }) | null;
  item_state: string | null;
  annotations: AnnotationInfo[];
  reason: string;
}

export interface SubmitBody {
  result: Result;
  active_ms?: number;
  base_revision?: number | null;
  prediction?: number | null;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export function csrfToken(cookies: string = typeof document === "undefined" ? "" : document.cookie): string | undefined {
  for (const pair of cookies.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === "csrftoken") return decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return undefined;
}

export class SessionClient {
  constructor(
    readonly projectId: number,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private readonly base = "/api/projects",
  ) {}

  url(path: string): string {
    return `${this.base}/${this.projectId}/${path}`;
  }

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    keepalive = false,
  ): Promise<T> {
    const all: Record<string, string> = { Accept: "application/json", ...headers };
    if (body !== undefined) all["Content-Type"] = "application/json";
    const token = csrfToken();
    if (token !== undefined && method !== "GET") all["X-CSRFToken"] = token;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        keepalive,
      });
    } catch {
      throw new SessionError(0, "network_error", "Could not reach the server; your work is kept in this browser.");
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const record = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
      throw new SessionError(
        response.status,
        typeof record.code === "string" ? record.code : `http_${response.status}`,
        typeof record.detail === "string" ? record.detail : `The server answered ${response.status}.`,
        record,
      );
    }
    return parsed as T;
  }

  next = () => this.call<NextItem>("POST", "queue/next/");
  progress = () => this.call<Record<string, unknown>>("GET", "queue/progress/");
  heartbeat = (id: number, activeMs: number) =>
    this.call<{ status: string; lease_expires_at: string }>("POST", `assignments/${id}/heartbeat/`, { active_ms: activeMs });
  draft = (id: number, draft: Result, activeMs = 0, keepalive = false) =>
    this.call<unknown>("PUT", `assignments/${id}/draft/`, { draft, active_ms: activeMs }, {}, keepalive);
  skip = (id: number, reason: string) => this.call<AssignmentInfo>("POST", `assignments/${id}/skip/`, { reason });
  submit = (id: number, body: SubmitBody, idempotencyKey: string) =>
    this.call<AnnotationInfo>("POST", `assignments/${id}/submit/`, body, { "Idempotency-Key": idempotencyKey });
  acknowledge = (version: number) => this.call<unknown>("POST", `guideline-versions/${version}/acknowledge/`);
  reviewNext = () => this.call<ReviewTask>("POST", "review/next/");
  review = (
    annotationId: number,
    body: { decision: "accept" | "reject" | "fix"; revision: number; reason?: string; comment?: string; result?: Result },
  ) => this.call<unknown>("POST", `annotations/${annotationId}/review/`, body);
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
