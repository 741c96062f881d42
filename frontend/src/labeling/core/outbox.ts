/**
 * The offline submit queue. A submission is written to localStorage before it is sent and stays
 * there until the server answers; each keeps its Idempotency-Key, so a retry after a lost answer
 * is a no-op on the server. Transient failures (offline, 5xx) are retried with exponential backoff
 * and at once when the browser comes back online; a definitive refusal (400 invalid_annotation,
 * 409 lease_lost, ...) leaves the queue and is reported, with the result, so nothing is lost.
 */
import type { AnnotationInfo, SubmitBody } from "./api";
import { ApiError } from "../../api/http";
import { type KeyValue, readJson, writeJson } from "./storage";

export interface OutboxEntry {
  assignmentId: number;
  itemId: number;
  key: string;
  body: SubmitBody;
  attempts: number;
  nextAt: number;
  queuedAt: number;
}

export interface OutboxOptions {
  projectId: number;
  storage: KeyValue | null;
  send(entry: OutboxEntry): Promise<AnnotationInfo>;
  now?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onSent?(entry: OutboxEntry, annotation: AnnotationInfo): void;
  onRefused?(entry: OutboxEntry, error: ApiError): void;
  onChange?(pending: readonly OutboxEntry[]): void;
}

export const outboxKey = (projectId: number) => `tessera:outbox:${projectId}`;

export class Outbox {
  private entries: OutboxEntry[];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly base: number;
  private readonly max: number;

  constructor(private readonly options: OutboxOptions) {
    this.now = options.now ?? Date.now;
    this.base = options.baseDelayMs ?? 1000;
    this.max = options.maxDelayMs ?? 60_000;
    const stored = readJson<OutboxEntry[]>(options.storage, outboxKey(options.projectId));
    this.entries = Array.isArray(stored) ? stored.filter((e) => e && typeof e.key === "string") : [];
  }

  get pending(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** Queues a submission and tries to send it now; resolves with the first attempt's outcome. */
  async submit(entry: Omit<OutboxEntry, "attempts" | "nextAt" | "queuedAt">): Promise<
    { status: "sent"; annotation: AnnotationInfo } | { status: "queued"; error: ApiError } | { status: "refused"; error: ApiError }
  > {
    const full: OutboxEntry = { ...entry, attempts: 0, nextAt: 0, queuedAt: this.now() };
    this.entries = [...this.entries.filter((e) => e.assignmentId !== entry.assignmentId), full];
    this.persist();
    return this.attempt(full);
  }

  /** Sends every entry that is due (or all, `force`: the browser came back online). */
  flush(force = false): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = (async () => {
      for (const entry of [...this.entries]) {
        if (!force && entry.nextAt > this.now()) continue;
        await this.attempt(entry);
      }
    })().finally(() => {
      this.running = null;
      this.schedule();
    });
    return this.running;
  }

  /** Retry when the network returns. Returns a function that stops listening. */
  listen(target: Pick<Window, "addEventListener" | "removeEventListener"> = window): () => void {
    const online = () => void this.flush(true);
    target.addEventListener("online", online);
    this.schedule();
    return () => {
      target.removeEventListener("online", online);
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
    };
  }

  private async attempt(entry: OutboxEntry) {
    try {
      const annotation = await this.options.send(entry);
      this.drop(entry);
      this.options.onSent?.(entry, annotation);
      return { status: "sent" as const, annotation };
    } catch (raw) {
      const error = raw instanceof ApiError ? raw : new ApiError(0, "network_error", String(raw));
      if (error.transient) {
        entry.attempts += 1;
        const delay = Math.min(this.max, this.base * 2 ** (entry.attempts - 1));
        entry.nextAt = this.now() + delay;
        this.persist();
        this.schedule();
        return { status: "queued" as const, error };
      }
      this.drop(entry);
      this.options.onRefused?.(entry, error);
      return { status: "refused" as const, error };
    }
  }

  private drop(entry: OutboxEntry): void {
    this.entries = this.entries.filter((e) => e.key !== entry.key);
    this.persist();
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.entries.length === 0) return;
    const due = Math.min(...this.entries.map((e) => e.nextAt));
    this.timer = setTimeout(() => void this.flush(), Math.max(0, due - this.now()));
  }

  private persist(): void {
    writeJson(this.options.storage, outboxKey(this.options.projectId), this.entries);
    this.options.onChange?.(this.entries);
  }
}
