import { describe, expect, it } from "vitest";

import { installSelection } from "./selection";

describe("installSelection", () => {
  it("checks every item on the page and counts the selection", () => {
    document.body.innerHTML = `<form id="bulk-form"><span id="selected-count"></span><input type="checkbox" id="select-page">
      <input type="checkbox" name="item" value="1"><input type="checkbox" name="item" value="2"></form>`;
    installSelection();
    const all = document.getElementById("select-page") as HTMLInputElement;
    all.checked = true;
    all.dispatchEvent(new Event("change"));
    const boxes = Array.from(document.querySelectorAll<HTMLInputElement>('input[name="item"]'));
    expect(boxes.every((b) => b.checked)).toBe(true);
    expect(document.getElementById("selected-count")?.textContent).toBe("2 selected");
    boxes[0]!.checked = false;
    boxes[0]!.dispatchEvent(new Event("change", { bubbles: true }));
    expect(all.indeterminate).toBe(true);
    expect(document.getElementById("selected-count")?.textContent).toBe("1 selected");
  });
});
