/** Text-family tools: text, rich_text, conversation, candidates and json fields; choices, taxonomy,
 * rating, ranking, pairwise, free text, spans, relations and per-turn chat labels. */
import { registerControlTool, registerFieldView } from "../../registry";
import { multipleChoiceTool, singleChoiceTool } from "./choices";
import { ConversationView, chatTurnLabelsTool } from "./conversation";
import { freeTextTool } from "./freetext";
import { pairwiseTool } from "./pairwise";
import { rankingTool } from "./ranking";
import { ratingTool } from "./rating";
import { relationsTool } from "./relations";
import { spansTool } from "./spans";
import { taxonomyTool } from "./taxonomy";
import { TextFieldView } from "./text-view";
import { CandidatesView, JsonView } from "./views";
import "./text-tools.css";

export function registerTextTools(): void {
  registerFieldView({ types: ["text", "rich_text"], hosts: ["spans"], View: TextFieldView });
  registerFieldView({ types: ["conversation"], hosts: ["chat_turn_labels"], View: ConversationView });
  registerFieldView({ types: ["candidates"], hosts: [], View: CandidatesView });
  registerFieldView({ types: ["json"], hosts: [], View: JsonView });
  for (const tool of [
    singleChoiceTool,
    multipleChoiceTool,
    taxonomyTool,
    ratingTool,
    freeTextTool,
    rankingTool,
    pairwiseTool,
    spansTool,
    relationsTool,
    chatTurnLabelsTool,
  ]) {
    registerControlTool(tool);
  }
}
