/**
 * The labeling session's API (docs/API.md#labeling): typed functions over the one HTTP client,
 * api/http.ts (CSRF, `ApiError` with the whole error body, which the labeling page acts on:
 * `guideline_version`, the `errors[]` of invalid_annotation). Framework-free; `fetch` is injectable.
 */
import { ApiError, type FetchLike, type HttpMethod, request } from "../../api/http";
import type { Definition, Result, TaskItem } from "../contract";

export type { ApiProblem, FetchLike } from "../../api/http";

/** What the labeling page says when the server cannot be reached (the outbox keeps the work). */
export const OFFLINE_DETAIL = "Could not reach the server; your work is kept in this browser.";

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
  schema: { version: number; definition: Definition } | null;
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

export class SessionClient {
  constructor(
    readonly projectId: number,
    private readonly fetchImpl?: FetchLike,
    private readonly base = "/api/projects",
  ) {}

  url(path: string): string {
    return `${this.base}/${this.projectId}/${path}`;
  }

  async call<T>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    keepalive = false,
  ): Promise<T> {
    try {
      return await request<T>(method, this.url(path), { body, headers, keepalive, fetch: this.fetchImpl });
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) throw new ApiError(0, error.code, OFFLINE_DETAIL);
      throw error;
    }
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
