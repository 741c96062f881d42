import type { Definition } from "../contract";

/** What the page template gives the app (json_script "labeling-config"). */
export interface PageConfig {
  projectId: number;
  projectName: string;
  user: string;
  schema: { version: number; definition: Definition } | null;
  leaseSeconds: number;
  rejectReasons: string[];
  guidelines: { version: number; acknowledged: boolean } | null;
  links: { guidelines: string; project: string; label?: string; review?: string };
  feedPath: string;
}

export function readConfig(doc: Document = document): PageConfig | null {
  const element = doc.getElementById("labeling-config");
  if (element === null) return null;
  try {
    return JSON.parse(element.textContent ?? "") as PageConfig;
  } catch {
    return null;
  }
}

/** Stable, distinguishable colours for annotators on the review page. */
export const ANNOTATOR_COLORS = ["#1565c0", "#c2185b", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"];
