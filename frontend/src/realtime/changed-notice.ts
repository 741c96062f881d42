/**
 * Reveals the page's "changed by someone else" notice when the feed reports a change to the
 * project's settings, so nobody keeps editing a stale form (the server refuses stale saves
 * with 409 stale_update; this tells the user before they try).
 */
import type { FeedEvent } from "./project-feed";

const SETTINGS_EVENTS: ReadonlySet<string> = new Set(["project.updated", "project.archived", "project.unarchived"]);

/** Returns a feed handler that un-hides `notice` and names who made the change (as text only). */
export function changedNoticeHandler(notice: HTMLElement): (event: FeedEvent) => void {
  return (event) => {
    if (!SETTINGS_EVENTS.has(event.type)) return;
    const actor = "actor" in event.data && typeof event.data.actor === "string" ? event.data.actor : "someone";
    const who = notice.querySelector<HTMLElement>("[data-changed-by]");
    if (who !== null) who.textContent = actor;
    notice.hidden = false;
  };
}
