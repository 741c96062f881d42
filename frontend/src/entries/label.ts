/**
 * The labeling page (/projects/<id>/label/): mounts the LabelingApp on #labeling-root with the
 * configuration the server put in the "labeling-config" json_script.
 */
import { h, render } from "preact";

import { readConfig } from "../labeling/shell/config";
import { LabelingApp } from "../labeling/shell/labeling-app";
import "../labeling/shell/shell.css";
import { registerAllTools } from "../labeling/tools";

registerAllTools();
const config = readConfig();
const root = document.getElementById("labeling-root");
if (config !== null && root !== null) {
  root.replaceChildren();
  render(h(LabelingApp, { config, guidelinesPanel: document.getElementById("guidelines-panel") }), root);
}
