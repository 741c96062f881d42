/**
 * Gold-authoring page (/projects/<id>/items/<item>/gold/): the labeling widget on one item, saving the
 * answer as its gold reference. Config: the labeling page's json_script plus `gold` (see GoldApp).
 */
import { h, render } from "preact";

import { GoldApp, type GoldPageConfig } from "../data-manager/gold-app";
import { readConfig } from "../labeling/shell/config";
import "../labeling/shell/shell.css";
import { registerAllTools } from "../labeling/tools";

registerAllTools();
const config = readConfig() as GoldPageConfig | null;
const root = document.getElementById("labeling-root");
if (config !== null && config.gold !== undefined && root !== null) {
  root.replaceChildren();
  render(h(GoldApp, { config }), root);
}
