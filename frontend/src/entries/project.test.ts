import { afterEach, beforeEach, expect, it, vi } from "vitest";

const openedUrls: string[] = [];

class RecordingWebSocket {
  onopen = null;
  onmessage = null;
  onclose = null;
  constructor(url: string) {
    openedUrls.push(url);
  }
  close(): void {}
}

/** Runs the entry module afresh against the current document. */
async function runEntry(): Promise<void> {
  vi.resetModules();
  await import("./project");
}

beforeEach(() => {
  openedUrls.length = 0;
  vi.stubGlobal("WebSocket", RecordingWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

function setPage(config: string | null, withContainer = true): void {
  document.body.innerHTML = `
    ${config === null ? "" : `<script id="project-config" type="application/json">${config}</script>`}
    ${withContainer ? `<div id="project-live"></div>` : ""}`;
}

it("mounts the live activity and connects to ws_path", async () => {
  setPage('{"project_id": 1, "ws_path": "/ws/projects/1/"}');

  await runEntry();

  expect(openedUrls).toEqual([`ws://${location.host}/ws/projects/1/`]);
  expect(document.querySelector("#project-live #live-status")?.textContent).toBe("Connecting…");
});

it("derives the path from project_id when ws_path is absent", async () => {
  setPage('{"project_id": 42}');

  await runEntry();

  expect(openedUrls).toEqual([`ws://${location.host}/ws/projects/42/`]);
});

it.each([
  ["no config", null, true],
  ["unparseable config", "{oops", true],
  ["no container", '{"project_id": 1}', false],
])("does nothing with %s", async (_label, config, withContainer) => {
  setPage(config, withContainer);

  await runEntry();

  expect(openedUrls).toEqual([]);
  expect(document.querySelector("#live-status")).toBeNull();
});
