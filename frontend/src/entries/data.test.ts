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
  await import("./data");
}

const CONFIG = JSON.stringify({
  project_id: 3,
  ws_path: "/ws/projects/3/",
  items_url: "/projects/3/data/",
  max_bytes: 1000,
  modes: [["all_or_nothing", "All or nothing"]],
  consents: [["granted", "Granted"]],
});

function setPage(config: string | null, withContainer = true): void {
  document.body.innerHTML = `
    ${config === null ? "" : `<script id="data-config" type="application/json">${config}</script>`}
    ${withContainer ? `<div id="import-panel"><p class="muted">Loading…</p></div>` : ""}`;
}

beforeEach(() => {
  openedUrls.length = 0;
  vi.stubGlobal("WebSocket", RecordingWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

it("mounts the import panel in place of the placeholder and connects to the feed", async () => {
  setPage(CONFIG);

  await runEntry();

  expect(openedUrls).toEqual([`ws://${location.host}/ws/projects/3/`]);
  expect(document.querySelector("#import-panel #import-file")).not.toBeNull();
  expect(document.querySelector("#import-panel .muted")?.textContent).not.toBe("Loading…");
  expect(document.querySelector(".import-drop__hint")?.textContent).toContain("up to 1.0 kB");
});

it("does nothing for people who may not import (no container)", async () => {
  setPage(CONFIG, false);

  await runEntry();

  expect(openedUrls).toEqual([]);
});

it.each([["not json"], ['{"project_id": "3"}'], ['{"project_id": 3, "modes": [["a"]], "consents": []}']])(
  "does nothing with an unusable config %s",
  async (config) => {
    setPage(config);

    await runEntry();

    expect(openedUrls).toEqual([]);
    expect(document.querySelector("#import-file")).toBeNull();
  },
);
