import { useEffect, useState } from "preact/hooks";

import { subscribeTextState, updateTextState as update } from "./selection";

/** Re-render when any text-tool state changes. */
export function useTextStateVersion(): void {
  const [, force] = useState(0);
  useEffect(() => subscribeTextState(() => force((n) => n + 1)), []);
}

export const updateTextState = () => update({});
