/** Text-family tools: text, rich_text, conversation, candidates and json fields; choices, taxonomy,
 * rating, ranking, pairwise, free text, spans, relations and per-turn chat labels. */
export function registerTextTools(): void {
  // filled in by the text tools
}
