/**
 * Lease heartbeat and active time. Active time counts milliseconds while the page is visible, the
 * window focused and the person did something (a key, a click, a pointer move) in the last
 * `idleMs`; the heartbeat reports it and renews the lease, and tells when the lease is lost.
 */
import { ApiError } from "../../api/http";

export interface Clock {
  now(): number;
}

export class ActiveTimer {
  private total = 0;
  private lastTick: number;
  private lastActivity: number;
  private visible = true;

  constructor(
    private readonly clock: Clock = { now: () => Date.now() },
    private readonly idleMs = 60_000,
  ) {
    this.lastTick = clock.now();
    this.lastActivity = clock.now();
  }

  /** Something happened (key, pointer): the person is here. */
  activity(): void {
    this.tick();
    this.lastActivity = this.clock.now();
  }

  setVisible(visible: boolean): void {
    this.tick();
    this.visible = visible;
    if (visible) this.lastActivity = this.clock.now();
  }

  /** Milliseconds counted since the last `take()`, and starts again from zero. */
  take(): number {
    this.tick();
    const value = Math.round(this.total);
    this.total = 0;
    return value;
  }

  peek(): number {
    this.tick();
    return Math.round(this.total);
  }

  private tick(): void {
    const now = this.clock.now();
    if (this.visible) {
      // Only the time up to `idleMs` after the last activity counts.
      const activeUntil = Math.min(now, this.lastActivity + this.idleMs);
      if (activeUntil > this.lastTick) this.total += activeUntil - this.lastTick;
    }
    this.lastTick = now;
  }

  /** Wires the timer to a page; returns a function that unwires it. */
  attach(doc: Document, win: Window): () => void {
    const onActivity = () => this.activity();
    const onVisibility = () => this.setVisible(doc.visibilityState === "visible" && doc.hasFocus());
    const events = ["keydown", "pointerdown", "pointermove", "wheel", "input"] as const;
    for (const name of events) doc.addEventListener(name, onActivity, { passive: true, capture: true });
    doc.addEventListener("visibilitychange", onVisibility);
    win.addEventListener("blur", onVisibility);
    win.addEventListener("focus", onVisibility);
    return () => {
      for (const name of events) doc.removeEventListener(name, onActivity, { capture: true });
      doc.removeEventListener("visibilitychange", onVisibility);
      win.removeEventListener("blur", onVisibility);
      win.removeEventListener("focus", onVisibility);
    };
  }
}

export interface HeartbeatOptions {
  intervalMs: number;
  beat(): Promise<unknown>;
  onLost(error: ApiError): void;
  onError?(error: unknown): void;
}

/** Renews the lease every `intervalMs`; stops and calls `onLost` on 409 lease_lost (or a closed item). */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.beatNow(), this.options.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  async beatNow(): Promise<void> {
    try {
      await this.options.beat();
    } catch (error) {
      if (error instanceof ApiError && LOST_CODES.has(error.code)) {
        this.stop();
        this.options.onLost(error);
      } else this.options.onError?.(error);
    }
  }
}

const LOST_CODES = new Set(["lease_lost", "item_closed", "already_submitted", "not_your_assignment"]);

/** A heartbeat interval for a lease: a third of it, between 10 s and 60 s. */
export function heartbeatInterval(leaseSeconds: number): number {
  return Math.min(60_000, Math.max(10_000, Math.floor((leaseSeconds * 1000) / 3)));
}
