/**
 * Never lose work: every change is written to localStorage at once (a closed tab, a reload or a lost
 * network keep it) and to the server as a draft after a pause in editing (debounced PUT draft).
 * On load the newer of the two copies wins.
 */
import type { Result } from "../contract";
import { type KeyValue, readJson, remove, writeJson } from "./storage";

export interface LocalDraft {
  assignmentId: number;
  itemId: number;
  result: Result;
  /** ms since epoch of the last local change. */
  savedAt: number;
  /** true once the server has this exact copy. */
  synced: boolean;
}

export type DraftState = "idle" | "pending" | "saving" | "saved" | "offline" | "error";

export interface DraftKeeperOptions {
  projectId: number;
  storage: KeyValue | null;
  save(assignmentId: number, result: Result, keepalive: boolean): Promise<unknown>;
  delayMs?: number;
  now?: () => number;
  onState?(state: DraftState, error?: unknown): void;
}

export const draftKey = (projectId: number, assignmentId: number) => `tessera:draft:${projectId}:${assignmentId}`;

export class DraftKeeper {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private assignmentId: number | null = null;
  private itemId = 0;
  private latest: Result | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly delayMs: number;
  private readonly now: () => number;

  constructor(private readonly options: DraftKeeperOptions) {
    this.delayMs = options.delayMs ?? 1200;
    this.now = options.now ?? Date.now;
  }

  /** Starts keeping the drafts of an assignment. */
  begin(assignmentId: number, itemId: number): void {
    this.cancel();
    this.assignmentId = assignmentId;
    this.itemId = itemId;
    this.latest = null;
  }

  /**
   * The draft to start from: the local copy when it is newer than the server's (or the server has
   * none), else the server's. `serverSavedAt` is an ISO date or null.
   */
  restore(assignmentId: number, serverDraft: Result | null, serverSavedAt: string | null): Result | null {
    const local = readJson<LocalDraft>(this.options.storage, draftKey(this.options.projectId, assignmentId));
    const serverTime = serverSavedAt ? Date.parse(serverSavedAt) : Number.NEGATIVE_INFINITY;
    if (local !== null && local.assignmentId === assignmentId && isObject(local.result)) {
      if (!local.synced || local.savedAt > serverTime || !isObject(serverDraft)) return local.result;
    }
    return isObject(serverDraft) ? serverDraft : null;
  }

  /** A change: stored locally now, sent to the server after `delayMs` without further changes. */
  change(result: Result): void {
    if (this.assignmentId === null) return;
    this.latest = result;
    this.writeLocal(result, false);
    this.options.onState?.("pending");
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Sends the pending change now (page hide: with `keepalive`). */
  async flush(keepalive = false): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const id = this.assignmentId;
    const result = this.latest;
    if (id === null || result === null) return;
    if (this.inFlight !== null) await this.inFlight.catch(() => undefined);
    if (this.latest !== result || this.assignmentId !== id) return; // superseded meanwhile
    this.options.onState?.("saving");
    this.inFlight = (async () => {
      try {
        await this.options.save(id, result, keepalive);
        if (this.latest === result && this.assignmentId === id) {
          this.latest = null;
          this.writeLocal(result, true);
        }
        this.options.onState?.("saved");
      } catch (error) {
        const status = (error as { status?: number }).status;
        this.options.onState?.(status === 0 ? "offline" : "error", error);
        // keep `latest`: the next change or flush tries again; the local copy is safe anyway
        if (this.latest === result && this.timer === null) {
          this.timer = setTimeout(() => void this.flush(), Math.max(this.delayMs, 5000));
        }
      }
    })();
    return this.inFlight;
  }

  /** The work was submitted (or is in the outbox): forget the draft. */
  discard(assignmentId: number): void {
    if (this.assignmentId === assignmentId) this.cancel();
    remove(this.options.storage, draftKey(this.options.projectId, assignmentId));
  }

  get hasPending(): boolean {
    return this.latest !== null;
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
    this.assignmentId = null;
  }

  private writeLocal(result: Result, synced: boolean): void {
    if (this.assignmentId === null) return;
    const draft: LocalDraft = {
      assignmentId: this.assignmentId,
      itemId: this.itemId,
      result,
      savedAt: this.now(),
      synced,
    };
    writeJson(this.options.storage, draftKey(this.options.projectId, this.assignmentId), draft);
  }
}

function isObject(value: unknown): value is Result {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
