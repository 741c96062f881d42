/**
 * Reconnecting WebSocket client for a project's live feed (/ws/projects/<id>/).
 *
 * The server pushes JSON messages `{"type": "<entity>.<past tense>", "data": {...}}`.
 * Messages are decoded and validated here, at the boundary, so subscribers get
 * typed events; anything malformed is dropped.
 */

/** Payload of each known event type. Values come from other users: render them only as text. */
export interface FeedEventData {
  "feed.ready": { project_id: number };
  "project.updated": { project_id: number; actor: string; fields: string[] };
  "project.archived": { project_id: number; actor: string };
  "project.unarchived": { project_id: number; actor: string };
  "member.added": { project_id: number; actor: string; username: string; role: string };
  "member.removed": { project_id: number; actor: string; username: string };
  "member.role_changed": { project_id: number; actor: string; username: string; role: string };
  "schema.version_created": { project_id: number; actor: string; version: number };
  "guideline.version_created": { project_id: number; actor: string; version: number };
  "project.stats_updated": { project_id: number; stats: ProjectStats };
}

/** Counters carried by project.stats_updated; pages show them in `[data-stat="<key>"]` elements. */
export const PROJECT_STAT_KEYS = [
  "members",
  "managers",
  "reviewers",
  "annotators",
  "schema_versions",
  "guideline_versions",
] as const;

export type ProjectStatKey = (typeof PROJECT_STAT_KEYS)[number];
export type ProjectStats = Record<ProjectStatKey, number>;

export type KnownEventType = keyof FeedEventData;

export type KnownFeedEvent = { [K in KnownEventType]: { type: K; data: FeedEventData[K] } }[KnownEventType];

/**
 * Every event type the server sends, as catalogued in docs/EVENTS.md (generated from the apps'
 * events.py; the same list is ./events.json). `make lint` fails when this list and the catalogue differ.
 * Types with a payload in FeedEventData are decoded above; the others arrive as `unrecognized`, their
 * `name` one of these, and are checked by the page that uses them.
 */
export const SERVER_EVENT_TYPES = [
  "feed.ready",
  "feed.error",
  "project.updated",
  "project.archived",
  "project.unarchived",
  "member.added",
  "member.removed",
  "member.role_changed",
  "member.paused",
  "member.resumed",
  "schema.version_created",
  "guideline.version_created",
  "project.stats_updated",
  "import.progress",
  "import.finished",
  "split.assigned",
  "split.failed",
  "near_duplicates.detected",
  "near_duplicates.resolved",
  "bucket_source.sync_progress",
  "bucket_source.synced",
  "bucket_source.sync_failed",
  "item.leased",
  "lease.expired",
  "item.skipped",
  "item.state_changed",
  "items.workflow_changed",
  "items.sent_to_review",
  "annotation.submitted",
  "review.leased",
  "review.decided",
  "quality.updated",
  "release.created",
  "release.progress",
  "release.published",
  "release.failed",
  "release.reproduced",
] as const;

export type ServerEventType = (typeof SERVER_EVENT_TYPES)[number];

/**
 * A message with a type this client does not know (or a known type whose data
 * does not match the contract). Kept rather than dropped so a newer server's
 * events still show up; `name` is the server's type string.
 */
export interface UnrecognizedFeedEvent {
  type: "unrecognized";
  name: string;
  data: Record<string, unknown>;
}

export type FeedEvent = KnownFeedEvent | UnrecognizedFeedEvent;

export type FeedStatus = "connecting" | "open" | "closed";

/** The subset of the browser WebSocket the feed uses, so tests can inject a fake. */
export interface FeedSocket {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  close(code?: number, reason?: string): void;
}

export type FeedSocketConstructor = new (url: string) => FeedSocket;

export interface ProjectFeedOptions {
  /** Absolute ws:// or wss:// URL; see `feedUrl()`. */
  url: string;
  WebSocket?: FeedSocketConstructor;
  /** First reconnect delay; doubles on each failed attempt. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Source of jitter in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

/**
 * Close codes the server uses (docs/SECURITY.md, "Live feed"):
 * 4403 access revoked and 4404 not a member stop the feed for good; 4401 (signed out, password
 * changed) reconnects, which a still-valid session survives and an ended one turns into 4404;
 * 4400 (too many malformed frames) and 4429 (too many sockets of this person) retry only after the
 * longest delay, so a tab over the limit does not hammer the server.
 */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4403, 4404]);
const SLOW_RETRY_CLOSE_CODES: ReadonlySet<number> = new Set([4400, 4429]);

/** Builds the feed URL for a path, using wss: on https pages. */
export function feedUrl(path: string, location: Pick<Location, "protocol" | "host"> = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class ProjectFeed {
  private readonly url: string;
  private readonly SocketImpl: FeedSocketConstructor;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  private readonly eventHandlers = new Set<(event: FeedEvent) => void>();
  private readonly statusHandlers = new Set<(status: FeedStatus) => void>();
  private readonly gapHandlers = new Set<() => void>();

  private socket: FeedSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failedAttempts = 0;
  private stopped = true;
  private currentStatus: FeedStatus = "closed";
  private everOpened = false;

  constructor(options: ProjectFeedOptions) {
    this.url = options.url;
    this.SocketImpl = options.WebSocket ?? WebSocket;
    this.initialDelayMs = options.initialDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.random = options.random ?? Math.random;
  }

  get status(): FeedStatus {
    return this.currentStatus;
  }

  /** False once the feed has given up: after `close()` or a fatal close code from the server. */
  get willReconnect(): boolean {
    return !this.stopped;
  }

  /** Connects, and keeps reconnecting until `close()`. Calling it while running is a no-op. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.failedAttempts = 0;
    this.connect();
  }

  /** Disconnects for good (until `start()` is called again). */
  close(): void {
    if (!this.stopped) this.stop();
  }

  /** Registers an event handler; returns a function that removes it. */
  subscribe(handler: (event: FeedEvent) => void): () => void {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  /**
   * Registers a handler called when a socket opens after an earlier one was open: events sent in
   * between were missed (the feed has no resume cursor), so refetch what the page shows.
   */
  onGap(handler: () => void): () => void {
    this.gapHandlers.add(handler);
    return () => this.gapHandlers.delete(handler);
  }

  /** Registers a status handler; returns a function that removes it. */
  onStatus(handler: (status: FeedStatus) => void): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  private connect(): void {
    this.retryTimer = null;
    this.setStatus("connecting");
    const socket = new this.SocketImpl(this.url);
    this.socket = socket;

    socket.onopen = () => {
      this.failedAttempts = 0;
      this.setStatus("open");
      if (this.everOpened) for (const handler of [...this.gapHandlers]) safeCall(handler, undefined);
      this.everOpened = true;
    };
    socket.onmessage = (message) => {
      const event = parseFeedEvent(message.data);
      if (event !== null) this.emit(event);
    };
    socket.onclose = (event) => {
      this.socket = null;
      if (FATAL_CLOSE_CODES.has(event.code)) {
        this.stop();
        return;
      }
      this.setStatus("closed");
      if (SLOW_RETRY_CLOSE_CODES.has(event.code)) this.failedAttempts = Math.max(this.failedAttempts, 30);
      this.scheduleReconnect();
    };
    // No onerror: an error is always followed by a close event, which handles it.
  }

  private scheduleReconnect(): void {
    const exponential = this.initialDelayMs * 2 ** this.failedAttempts;
    const capped = Math.min(this.maxDelayMs, exponential);
    // Jitter shaves off up to half the delay so that, after a server restart,
    // clients don't all reconnect in the same instant.
    const delay = capped * (1 - 0.5 * this.random());
    this.failedAttempts += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      // Detach first: the close event of a socket we closed must not trigger a reconnect.
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
    this.setStatus("closed");
  }

  private setStatus(status: FeedStatus): void {
    this.currentStatus = status;
    for (const handler of [...this.statusHandlers]) safeCall(handler, status);
  }

  private emit(event: FeedEvent): void {
    for (const handler of [...this.eventHandlers]) safeCall(handler, event);
  }
}

/** One failing subscriber must not starve the others or kill the socket handler. */
function safeCall<T>(handler: (value: T) => void, value: T): void {
  try {
    handler(value);
  } catch (error) {
    console.error("ProjectFeed handler failed", error);
  }
}

// --- Decoding ---------------------------------------------------------------

type FieldKind = "number" | "string" | "string[]" | "stats";

/** Required data fields per event type; extra fields are allowed and ignored. */
const SCHEMAS: { [K in KnownEventType]: Record<keyof FeedEventData[K], FieldKind> } = {
  "feed.ready": { project_id: "number" },
  "project.updated": { project_id: "number", actor: "string", fields: "string[]" },
  "project.archived": { project_id: "number", actor: "string" },
  "project.unarchived": { project_id: "number", actor: "string" },
  "member.added": { project_id: "number", actor: "string", username: "string", role: "string" },
  "member.removed": { project_id: "number", actor: "string", username: "string" },
  "member.role_changed": { project_id: "number", actor: "string", username: "string", role: "string" },
  "schema.version_created": { project_id: "number", actor: "string", version: "number" },
  "guideline.version_created": { project_id: "number", actor: "string", version: "number" },
  "project.stats_updated": { project_id: "number", stats: "stats" },
};

/** Decodes one raw socket message; `null` if it is not a feed message at all. */
export function parseFeedEvent(raw: unknown): FeedEvent | null {
  if (typeof raw !== "string") return null;
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(message) || typeof message.type !== "string" || !isRecord(message.data)) return null;

  const { type, data } = message;
  if (isKnownType(type) && matchesSchema(data, SCHEMAS[type])) {
    // Safe: matchesSchema checked every field FeedEventData[type] declares.
    return { type, data } as KnownFeedEvent;
  }
  return { type: "unrecognized", name: type, data };
}

function isKnownType(type: string): type is KnownEventType {
  return Object.hasOwn(SCHEMAS, type);
}

function matchesSchema(data: Record<string, unknown>, schema: Record<string, FieldKind>): boolean {
  return Object.entries(schema).every(([field, kind]) => matchesKind(data[field], kind));
}

function matchesKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "string":
      return typeof value === "string";
    case "string[]":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
    case "stats":
      return isRecord(value) && PROJECT_STAT_KEYS.every((key) => matchesKind(value[key], "number"));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
