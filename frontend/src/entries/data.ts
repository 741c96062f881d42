/**
 * Data page: mounts the import card (managers only) and follows the project feed for its progress.
 *
 * Django renders `{{ data_config|json_script:"data-config" }}`:
 * {"project_id": 1, "ws_path": "/ws/projects/1/", "items_url": "/projects/1/data/",
 *  "max_bytes": 2147483648, "modes": [[value, label], ...], "consents": [[value, label], ...],
 *  "provenance_sources": [{"id", "name", "kind", "terms"}, ...]}
 * and an empty `#import-panel` when the user may import.
 */
import { h, render } from "preact";

import type { ProvenanceSource } from "../data/provenance-picker";

import { installSelection } from "../data-manager/selection";
import { ProjectFeed, feedUrl } from "../realtime/project-feed";
import { ImportPanel, type ImportPanelConfig } from "../data/import-panel";

interface PageConfig {
  panel: ImportPanelConfig;
  wsPath: string;
}

type Choices = readonly (readonly [string, string])[];

function isChoices(value: unknown): value is Choices {
  return (
    Array.isArray(value) &&
    value.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((part) => typeof part === "string"))
  );
}

/** The page config, or `null` if it is missing or unusable. */
export function readConfig(): PageConfig | null {
  const script = document.getElementById("data-config");
  if (script === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(script.textContent ?? "");
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const config = raw as Record<string, unknown>;
  const { project_id, ws_path, items_url, max_bytes, modes, consents, provenance_sources } = config;
  if (typeof project_id !== "number" || !isChoices(modes) || !isChoices(consents)) return null;
  return {
    wsPath: typeof ws_path === "string" && ws_path.startsWith("/") ? ws_path : `/ws/projects/${project_id}/`,
    panel: {
      projectId: project_id,
      maxBytes: typeof max_bytes === "number" ? max_bytes : null,
      modes,
      consents,
      sources: Array.isArray(provenance_sources) ? (provenance_sources as ProvenanceSource[]) : [],
      itemsUrl: typeof items_url === "string" && items_url.startsWith("/") ? items_url : window.location.pathname,
    },
  };
}

installSelection();

const container = document.getElementById("import-panel");
const config = readConfig();

if (container !== null && config !== null) {
  const feed = new ProjectFeed({ url: feedUrl(config.wsPath) });
  // Render first: the panel subscribes synchronously inside render(), so it sees every event.
  container.replaceChildren();
  render(h(ImportPanel, { config: config.panel, feed }), container);
  feed.start();

  // An open socket keeps the page out of the back/forward cache; drop it while hidden.
  window.addEventListener("pagehide", () => feed.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) feed.start();
  });
}
