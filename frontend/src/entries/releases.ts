/**
 * Release page (/projects/<id>/releases/<n>/) while the release is building: listens on the project
 * feed and moves the progress bar on `release.progress`; reloads the page (which then shows the
 * published release or the failure) on `release.published` / `release.failed` for this release.
 *
 * Django renders the container with its config as data attributes:
 * <section id="release-app" data-feed-path="/ws/projects/1/" data-release-id="7" data-status="building">
 * The release.* events are not in the feed's typed contract: they arrive as unrecognised events.
 */
import { get } from "../api/http";
import { ProjectFeed, feedUrl, type FeedEvent } from "../realtime/project-feed";

export interface ReleasePageConfig {
  feedPath: string;
  releaseId: number;
}

export function readReleaseConfig(container: HTMLElement): ReleasePageConfig | null {
  const { feedPath, releaseId, status } = container.dataset;
  if (feedPath === undefined || !feedPath.startsWith("/") || feedPath.startsWith("//")) return null;
  if (status !== "building" || releaseId === undefined || !/^\d+$/.test(releaseId)) return null;
  return { feedPath, releaseId: Number(releaseId) };
}

export type ReleaseAction = { kind: "progress"; done: number; total: number } | { kind: "reload" } | null;

/** What an event means for the release on this page. */
export function releaseAction(event: FeedEvent, releaseId: number): ReleaseAction {
  if (event.type !== "unrecognized" || !event.name.startsWith("release.")) return null;
  if (event.data.release_id !== releaseId) return null;
  if (event.name === "release.published" || event.name === "release.failed") return { kind: "reload" };
  if (event.name === "release.progress") {
    const done = event.data.records_done;
    const total = event.data.records_total;
    if (typeof done !== "number" || typeof total !== "number" || done < 0 || total < 0) return null;
    return { kind: "progress", done, total };
  }
  return null;
}

/** Updates the progress bar and its text (as text: nothing from the server becomes markup). */
export function showProgress(container: HTMLElement, done: number, total: number): void {
  const bar = container.querySelector("progress");
  if (bar !== null) {
    bar.max = Math.max(total, 1);
    bar.value = Math.min(done, bar.max);
  }
  const text = container.querySelector("[data-release-progress-text]");
  if (text !== null) text.textContent = `${done} of ${total} records written`;
}

export function attach(container: HTMLElement, feed: Pick<ProjectFeed, "subscribe">, reload: () => void): (() => void) | null {
  const config = readReleaseConfig(container);
  if (config === null) return null;
  return feed.subscribe((event) => {
    // Marks the moment the server has joined us to the project group (tests wait for it).
    if (event.type === "feed.ready") container.dataset.feed = "ready";
    const action = releaseAction(event, config.releaseId);
    if (action === null) return;
    if (action.kind === "reload") reload();
    else showProgress(container, action.done, action.total);
  });
}

/** The rebuild ("Reproduce") section while its job is queued or running: polls the API's
 * `GET .../reproduce/` once a second, moves its progress bar, and reloads the page (which then shows
 * "identical" or the files that differ) when the job is done or failed. */
export interface ReproduceState {
  status: string;
  progress?: { records_done?: unknown; records_total?: unknown };
}

export function readReproduceUrl(section: HTMLElement): string | null {
  const { reproduceApi, reproduceStatus } = section.dataset;
  if (reproduceApi === undefined || !reproduceApi.startsWith("/api/") || reproduceApi.startsWith("//")) return null;
  if (reproduceStatus !== "queued" && reproduceStatus !== "running") return null;
  return reproduceApi;
}

/** What a polled state means: keep polling (with the progress to show), or reload. */
export function reproduceAction(state: ReproduceState): ReleaseAction {
  if (state.status === "done" || state.status === "failed") return { kind: "reload" };
  const done = state.progress?.records_done;
  const total = state.progress?.records_total;
  if (typeof done !== "number" || typeof total !== "number") return null;
  return { kind: "progress", done, total };
}

export function showReproduceProgress(section: HTMLElement, state: ReproduceState, done: number, total: number): void {
  const bar = section.querySelector("progress");
  if (bar !== null) {
    bar.max = Math.max(total, 1);
    bar.value = Math.min(done, bar.max);
  }
  const text = section.querySelector("[data-reproduce-progress-text]");
  if (text !== null) text.textContent = `${state.status}: ${done} of ${total} records written`;
}

export function pollReproduction(
  section: HTMLElement,
  fetchState: (url: string) => Promise<ReproduceState>,
  reload: () => void,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms)),
): Promise<void> | null {
  const url = readReproduceUrl(section);
  if (url === null) return null;
  return (async () => {
    for (;;) {
      await wait(1000);
      let state: ReproduceState;
      try {
        state = await fetchState(url);
      } catch {
        continue; // a blip: ask again
      }
      const action = reproduceAction(state);
      if (action?.kind === "reload") {
        reload();
        return;
      }
      if (action?.kind === "progress") showReproduceProgress(section, state, action.done, action.total);
    }
  })();
}

const reproduceSection = document.getElementById("release-reproduce");
if (reproduceSection !== null) {
  void pollReproduction(reproduceSection, (url) => get<ReproduceState>(url), () => window.location.reload());
}

const container = document.getElementById("release-app");
const config = container === null ? null : readReleaseConfig(container);
if (container !== null && config !== null) {
  const feed = new ProjectFeed({ url: feedUrl(config.feedPath) });
  attach(container, feed, () => window.location.reload());
  feed.start();
  // Joining the feed after the build finished would miss its event: poll the page once a while too.
  window.setTimeout(() => window.location.reload(), 15_000);
  window.addEventListener("pagehide", () => feed.close());
}
