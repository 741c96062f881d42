import { useLayoutEffect, useRef, useState } from "preact/hooks";

import {
  PROJECT_STAT_KEYS,
  type FeedEvent,
  type FeedStatus,
  type ProjectFeed,
  type ProjectStatKey,
  type ProjectStats,
} from "./project-feed";
import "./live-activity.css";

/** How many events the list keeps; older ones drop off the bottom. */
export const MAX_EVENTS = 20;

export const EMPTY_TEXT = "No activity yet. Changes made by anyone in this project appear here live.";

export interface LiveActivityProps {
  feed: Pick<ProjectFeed, "subscribe" | "onStatus" | "status" | "willReconnect">;
  /** Where `[data-stat]` elements are looked up; the whole page by default. */
  statsRoot?: ParentNode;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

interface Entry {
  id: number;
  text: string;
  at: Date;
}

/**
 * Live activity for the project page: a connection pill and the latest events.
 * Event data comes from other users, so it is only ever rendered as JSX text.
 */
export function LiveActivity({ feed, statsRoot = document, now = () => new Date() }: LiveActivityProps) {
  const [status, setStatus] = useState<FeedStatus>(feed.status);
  const [everOpen, setEverOpen] = useState(feed.status === "open");
  const [gaveUp, setGaveUp] = useState(false);
  const [entries, setEntries] = useState<readonly Entry[]>([]);
  const nextId = useRef(0);

  // Layout effect, not a plain effect: it runs synchronously after the first
  // render, so a feed started right after render() cannot emit unobserved.
  useLayoutEffect(() => {
    const offStatus = feed.onStatus((next) => {
      setStatus(next);
      if (next === "open") setEverOpen(true);
      setGaveUp(next === "closed" && !feed.willReconnect);
    });
    const offEvents = feed.subscribe((event) => {
      if (event.type === "project.stats_updated") {
        applyStats(statsRoot, event.data.stats);
        return;
      }
      const text = describeEvent(event);
      if (text === null) return;
      const entry = { id: nextId.current++, text, at: now() };
      setEntries((previous) => [entry, ...previous].slice(0, MAX_EVENTS));
    });
    return () => {
      offStatus();
      offEvents();
    };
    // `now` is deliberately not a dependency: it is usually an inline arrow, and
    // re-subscribing on every render for it would be pointless.
  }, [feed, statsRoot]);

  const open = status === "open";
  return (
    <div class="live-activity">
      <span id="live-status" role="status" class={`live-pill live-pill--${open ? "open" : "closed"}`}>
        {pillLabel(status, everOpen, gaveUp)}
      </span>
      <ol id="live-events" class="live-activity__events" aria-live="polite" aria-label="Live activity">
        {entries.map((entry) => (
          <li key={entry.id} class="live-activity__event">
            <span class="live-activity__text">{entry.text}</span>{" "}
            <time class="live-activity__time" dateTime={entry.at.toISOString()}>
              {formatTime(entry.at)}
            </time>
          </li>
        ))}
      </ol>
      {entries.length === 0 && <p class="live-activity__empty">{EMPTY_TEXT}</p>}
    </div>
  );
}

function pillLabel(status: FeedStatus, everOpen: boolean, gaveUp: boolean): string {
  if (status === "open") return "Live";
  // The feed stopped for good (e.g. the server refused with 4403): don't promise a reconnect.
  if (gaveUp) return "Offline";
  return everOpen ? "Reconnecting…" : "Connecting…";
}

/** One sentence for the list, or `null` for events that are not listed. */
export function describeEvent(event: FeedEvent): string | null {
  switch (event.type) {
    case "feed.ready":
    case "project.stats_updated":
      return null;
    case "project.updated": {
      const { actor, fields } = event.data;
      return fields.length > 0 ? `${actor} changed ${fields.join(", ")}` : `${actor} updated the project`;
    }
    case "project.archived":
      return `${event.data.actor} archived the project`;
    case "project.unarchived":
      return `${event.data.actor} unarchived the project`;
    case "member.added":
      return `${event.data.actor} added ${event.data.username} as ${event.data.role}`;
    case "member.removed":
      return `${event.data.actor} removed ${event.data.username}`;
    case "member.role_changed":
      return `${event.data.actor} changed ${event.data.username}'s role to ${event.data.role}`;
    case "schema.version_created":
      return `${event.data.actor} created schema version ${event.data.version}`;
    case "guideline.version_created":
      return `${event.data.actor} created guideline version ${event.data.version}`;
    case "unrecognized":
      return describeDataEvent(event.name, event.data);
  }
}

/** Data-page events (imports, splits); progress ticks are not activity worth listing. */
function describeDataEvent(name: string, data: Record<string, unknown>): string | null {
  const count = (value: unknown) => (typeof value === "number" ? value.toLocaleString("en") : "?");
  switch (name) {
    case "import.progress":
      return null;
    case "import.finished":
      return data.status === "succeeded"
        ? `Import finished: ${count(data.created)} items added, ${count(data.duplicates)} duplicates skipped`
        : "An import failed; nothing was imported";
    case "split.assigned":
      return `${typeof data.actor === "string" ? data.actor : "Someone"} assigned splits`;
    // Labeling: leases and state changes come with every item; the list keeps what people do.
    case "item.leased":
    case "lease.expired":
    case "review.leased":
    case "item.state_changed":
      return null;
    case "annotation.submitted":
      return `Annotation submitted on item #${count(data.item_id)}`;
    case "item.skipped":
      return `Item #${count(data.item_id)} skipped`;
    case "review.decided": {
      const verb = { accept: "accepted", reject: "rejected", fix: "fixed" }[String(data.decision)] ?? "reviewed";
      return `A reviewer ${verb} an annotation on item #${count(data.item_id)}`;
    }
    case "items.sent_to_review":
      return `${count(data.items)} items sent back to review (${typeof data.why === "string" ? data.why : "re-review"})`;
    case "items.workflow_changed":
      return `${count(data.items)} items re-prioritised or re-assigned`;
    case "member.paused":
      return `${typeof data.actor === "string" ? data.actor : "Someone"} paused ${String(data.username)}`;
    case "member.resumed":
      return `${typeof data.actor === "string" ? data.actor : "Someone"} resumed ${String(data.username)}`;
    default:
      return name;
  }
}

/** Local wall-clock time as HH:MM (24-hour), independent of the browser locale. */
export function formatTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Writes each counter into the page's `[data-stat="<key>"]` elements (textContent only). */
function applyStats(root: ParentNode, stats: ProjectStats): void {
  for (const element of root.querySelectorAll<HTMLElement>("[data-stat]")) {
    const key = element.dataset.stat;
    if (isStatKey(key)) element.textContent = String(stats[key]);
  }
}

function isStatKey(key: string | undefined): key is ProjectStatKey {
  return (PROJECT_STAT_KEYS as readonly (string | undefined)[]).includes(key);
}
