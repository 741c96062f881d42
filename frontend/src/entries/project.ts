/**
 * Project page: mounts the live activity panel.
 *
 * Django renders `{{ project_config|json_script:"project-config" }}`, i.e.
 * {"project_id": 1, "ws_path": "/ws/projects/1/"}, and an empty `#project-live`.
 */
import { h, render } from "preact";

import { ProjectFeed, feedUrl } from "../realtime/project-feed";
import { changedNoticeHandler } from "../realtime/changed-notice";
import { LiveActivity } from "../realtime/live-activity";

/** The feed's path from the page config, or `null` if the config is missing or unusable. */
function readFeedPath(): string | null {
  const script = document.getElementById("project-config");
  if (script === null) return null;
  let config: unknown;
  try {
    config = JSON.parse(script.textContent ?? "");
  } catch {
    return null;
  }
  if (typeof config !== "object" || config === null) return null;
  const { project_id, ws_path } = config as { project_id?: unknown; ws_path?: unknown };
  if (typeof ws_path === "string" && ws_path.startsWith("/")) return ws_path;
  if (typeof project_id === "number") return `/ws/projects/${project_id}/`;
  return null;
}

const container = document.getElementById("project-live");
const path = readFeedPath();

if (container !== null && path !== null) {
  const feed = new ProjectFeed({ url: feedUrl(path) });
  // Render first: LiveActivity subscribes synchronously inside render(), so it sees every status and event.
  render(h(LiveActivity, { feed }), container);
  const notice = document.getElementById("project-changed");
  if (notice !== null) feed.subscribe(changedNoticeHandler(notice));
  feed.start();

  // An open socket keeps the page out of the back/forward cache; drop it while hidden.
  window.addEventListener("pagehide", () => feed.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) feed.start();
  });
}
