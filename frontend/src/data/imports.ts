/**
 * Import jobs API: upload a file (XMLHttpRequest, for upload progress) and read a job.
 *
 * POST /api/projects/<id>/imports/ (multipart) answers 202 with the job; GET
 * /api/projects/<id>/imports/<job>/ reads it. Errors are `ApiError`s, as from `http.ts`.
 */
import { ApiError, get, readCookie } from "../api/http";

export type ImportStatus = "queued" | "running" | "succeeded" | "failed";

/** Live progress the server keeps while a job runs ("reading" the file, then "loading" items). */
export interface ImportProgress {
  phase: string;
  received: number;
  bytes_read: number;
  size_bytes: number;
}

/** One problem found in the file. `field` is "" when the whole line is broken. User data: render as text. */
export interface ImportRowError {
  line: number;
  field: string;
  reason: string;
}

/** What a Label Studio import did with the tasks' annotations and predictions (counts). */
export interface LabelCounts {
  annotations: Record<string, number>; // received, imported, cancelled, rejected, duplicates, not_imported
  predictions: Record<string, number>; // received, imported, rejected, duplicates, not_imported
  annotators: number;
}

export interface ImportJob {
  id: number;
  status: ImportStatus;
  mode: string;
  format: string;
  original_name: string;
  size_bytes: number;
  received: number;
  created: number;
  duplicates: number;
  rejected: number;
  error_count: number;
  error_sample: ImportRowError[];
  error_report_url: string | null;
  label_counts: LabelCounts | null;
  detail: string;
  progress: ImportProgress | null;
  created_by: string | null;
  created_at: string;
}

export const importsUrl = (projectId: number) => `/api/projects/${projectId}/imports/`;
export const importJobUrl = (projectId: number, jobId: number) => `${importsUrl(projectId)}${jobId}/`;

export function isFinished(status: ImportStatus): boolean {
  return status === "succeeded" || status === "failed";
}

/** Reads one job. Throws `ApiError`. */
export async function getImportJob(projectId: number, jobId: number, signal?: AbortSignal): Promise<ImportJob> {
  const body = await get<unknown>(importJobUrl(projectId, jobId), { signal });
  const job = parseImportJob(body);
  if (job === null) throw new ApiError(200, "invalid_response", "The server sent a response that could not be read.");
  return job;
}

/** The subset of XMLHttpRequest the upload uses, so tests can inject a fake. */
export interface UploadXhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData): void;
  abort(): void;
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: ProgressEvent) => void) | null };
  onload: ((event: ProgressEvent) => void) | null;
  onerror: ((event: ProgressEvent) => void) | null;
  onabort: ((event: ProgressEvent) => void) | null;
}

export type UploadXhrConstructor = new () => UploadXhr;

export interface UploadHandle {
  /** The created job; rejects with `ApiError`, or a DOMException "AbortError" after `abort()`. */
  readonly job: Promise<ImportJob>;
  abort(): void;
}

/**
 * Uploads `form` (multipart: file, mode, licence, ...) to the project's imports endpoint.
 * `onProgress(loaded, total)` reports bytes sent, when the browser knows the total.
 */
export function uploadImport(
  projectId: number,
  form: FormData,
  onProgress: (loaded: number, total: number) => void,
  Xhr: UploadXhrConstructor = XMLHttpRequest,
): UploadHandle {
  const xhr = new Xhr();
  const job = new Promise<ImportJob>((resolve, reject) => {
    xhr.open("POST", importsUrl(projectId));
    xhr.setRequestHeader("Accept", "application/json");
    const token = readCookie("csrftoken");
    if (token !== undefined) xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const parsed = parseImportJob(parseJson(xhr.responseText));
        if (parsed === null) {
          reject(new ApiError(xhr.status, "invalid_response", "The server sent a response that could not be read."));
        } else {
          resolve(parsed);
        }
        return;
      }
      reject(errorFromXhr(xhr.status, xhr.statusText, xhr.responseText));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, "network_error", "The upload was interrupted. Check your connection and try again."));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    xhr.send(form);
  });
  return { job, abort: () => xhr.abort() };
}

/** The API's `{code, detail}` error body, or a plain message for a proxy's HTML error page. */
export function errorFromXhr(status: number, statusText: string, text: string): ApiError {
  const body = parseJson(text);
  if (isRecord(body) && typeof body.code === "string" && typeof body.detail === "string") {
    return new ApiError(status, body.code, body.detail, fieldErrors(body.errors));
  }
  if (status === 413) {
    return new ApiError(413, "file_too_large", "The file is larger than the server accepts.");
  }
  return new ApiError(status, `http_${status}`, statusText || `The upload failed with status ${status}.`);
}

// --- Decoding -----------------------------------------------------------------------------------

/** A job from untrusted JSON, or `null` if the fields the page relies on are missing. */
export function parseImportJob(value: unknown): ImportJob | null {
  if (!isRecord(value)) return null;
  const numbers = ["id", "size_bytes", "received", "created", "duplicates", "rejected", "error_count"] as const;
  if (!numbers.every((key) => typeof value[key] === "number")) return null;
  if (!isStatus(value.status)) return null;
  return {
    id: value.id as number,
    status: value.status,
    mode: asString(value.mode),
    format: asString(value.format),
    original_name: asString(value.original_name),
    size_bytes: value.size_bytes as number,
    received: value.received as number,
    created: value.created as number,
    duplicates: value.duplicates as number,
    rejected: value.rejected as number,
    error_count: value.error_count as number,
    error_sample: Array.isArray(value.error_sample) ? value.error_sample.flatMap(parseRowError) : [],
    error_report_url: typeof value.error_report_url === "string" ? value.error_report_url : null,
    label_counts: parseLabelCounts(value.label_counts),
    detail: asString(value.detail),
    progress: parseProgress(value.progress),
    created_by: typeof value.created_by === "string" ? value.created_by : null,
    created_at: asString(value.created_at),
  };
}

/** A job's `label_counts` (Label Studio imports), or `null` when absent or malformed. */
export function parseLabelCounts(value: unknown): LabelCounts | null {
  if (!isRecord(value) || !isRecord(value.annotations) || !isRecord(value.predictions)) return null;
  const numbers = (record: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(record).filter(([, n]) => typeof n === "number")) as Record<string, number>;
  return {
    annotations: numbers(value.annotations),
    predictions: numbers(value.predictions),
    annotators: typeof value.annotators === "number" ? value.annotators : 0,
  };
}

/** Progress from an "import.progress" event or a job's `progress`; `null` if malformed. */
export function parseProgress(value: unknown): ImportProgress | null {
  if (!isRecord(value)) return null;
  const { phase, received, bytes_read, size_bytes } = value;
  if (typeof received !== "number" || typeof bytes_read !== "number" || typeof size_bytes !== "number") return null;
  return { phase: typeof phase === "string" ? phase : "", received, bytes_read, size_bytes };
}

function parseRowError(value: unknown): ImportRowError[] {
  if (!isRecord(value) || typeof value.line !== "number") return [];
  return [{ line: value.line, field: asString(value.field), reason: asString(value.reason) }];
}

function isStatus(value: unknown): value is ImportStatus {
  return value === "queued" || value === "running" || value === "succeeded" || value === "failed";
}

function fieldErrors(value: unknown): Record<string, string[]> {
  if (!isRecord(value)) return {};
  const errors: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(value)) {
    if (Array.isArray(messages) && messages.every((m) => typeof m === "string")) errors[field] = messages;
  }
  return errors;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const asString = (value: unknown): string => (typeof value === "string" ? value : "");

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
