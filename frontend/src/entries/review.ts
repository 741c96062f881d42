/**
 * The review page (/projects/<id>/review/): mounts the ReviewApp on #review-root with the
 * configuration the server put in the "labeling-config" json_script.
 */
import { h, render } from "preact";

import { readConfig } from "../labeling/shell/config";
import { ReviewApp } from "../labeling/shell/review-app";
import "../labeling/shell/shell.css";
import { registerAllTools } from "../labeling/tools";

registerAllTools();
const config = readConfig();
const root = document.getElementById("review-root");
if (config !== null && root !== null) {
  root.replaceChildren();
  render(h(ReviewApp, { config, guidelinesPanel: document.getElementById("guidelines-panel") }), root);
}
