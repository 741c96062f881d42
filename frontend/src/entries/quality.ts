/**
 * Quality dashboard page (/projects/<id>/quality/): mounts the dashboard into `#quality-app`.
 *
 * Django renders the container with its config as data attributes:
 * <div id="quality-app" data-api-base="/api/projects/1/" data-feed-path="/ws/projects/1/" data-can-manage="1">
 * and a server-rendered skeleton inside it, which the dashboard replaces.
 */
import { h, render } from "preact";

import { qualityApi } from "../quality/api";
import { QualityDashboard } from "../quality/dashboard";
import { ProjectFeed, feedUrl } from "../realtime/project-feed";

export interface QualityPageConfig {
  apiBase: string;
  feedPath: string;
  canManage: boolean;
}

/** The page config from the container's data attributes, or `null` if it is unusable. */
export function readQualityConfig(container: HTMLElement): QualityPageConfig | null {
  const { apiBase, feedPath, canManage } = container.dataset;
  // Same-origin paths only: these end up in fetch() and WebSocket URLs.
  const isPath = (value: string | undefined): value is string =>
    typeof value === "string" && value.startsWith("/") && !value.startsWith("//");
  if (!isPath(apiBase) || !isPath(feedPath)) return null;
  return { apiBase, feedPath, canManage: canManage === "1" };
}

const container = document.getElementById("quality-app");
const config = container === null ? null : readQualityConfig(container);

if (container !== null && config !== null) {
  const feed = new ProjectFeed({ url: feedUrl(config.feedPath) });
  container.replaceChildren(); // drop the server-rendered skeleton
  // Render first: the dashboard subscribes synchronously inside render(), so it sees every event.
  render(h(QualityDashboard, { api: qualityApi(config.apiBase), feed, apiBase: config.apiBase, canManage: config.canManage }), container);
  feed.start();

  // An open socket keeps the page out of the back/forward cache; drop it while hidden.
  window.addEventListener("pagehide", () => feed.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) feed.start();
  });
}
