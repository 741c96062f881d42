import { render } from "preact";
import { useState } from "preact/hooks";
import { afterEach, describe, expect, it } from "vitest";

import { HotkeyMap } from "../core/hotkeys";
import { useHotkeys } from "./keys";

/** Issue #16 walk: the gold-authoring page is "working" on its first paint, and a manager's first
 * keys ("]" then "4") pressed right then were lost because the listener was installed after paint. */
function Page({ onKey }: { onKey(key: string): void }) {
  const [count] = useState(0);
  useHotkeys(() => new HotkeyMap([{ key: "]", description: "B is better", run: () => onKey(`]${count}`) }]));
  return <div class="lb-app" data-phase="working" />;
}

let container: HTMLElement;

afterEach(() => {
  render(null, container);
  document.body.replaceChildren();
});

describe("useHotkeys", () => {
  it("takes keys as soon as the page is rendered, before any paint", () => {
    container = document.createElement("div");
    document.body.append(container);
    const pressed: string[] = [];
    render(<Page onKey={(key) => pressed.push(key)} />, container); // no act(): effects are not flushed
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "]", bubbles: true }));
    expect(pressed).toEqual(["]0"]);
  });
});
