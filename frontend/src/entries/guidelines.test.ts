import { afterEach, beforeEach, expect, it, vi } from "vitest";

import { enhanceGuidelines, previewFrom, type SendForm } from "./guidelines";

const PAGE = (preview: string) => `<!doctype html><html><body>
  <div id="guidelines-preview-body">${preview}</div><script>window.__ran = 1</script></body></html>`;

function setPage(previewHidden = true): void {
  document.body.innerHTML = `
    <form id="guidelines-form" method="post" action="/projects/1/guidelines/#edit">
      <input type="hidden" name="csrfmiddlewaretoken" value="t">
      <textarea name="body"># Old</textarea>
      <input name="note" value="">
      <button type="submit" name="preview" value="1">Preview</button>
      <button type="submit">Save</button>
    </form>
    <div id="preview" ${previewHidden ? "hidden" : ""}><div id="guidelines-preview-body"></div></div>`;
}

const body = () => document.querySelector<HTMLTextAreaElement>("textarea")!;
const target = () => document.getElementById("guidelines-preview-body")!;

let stop: (() => void) | null = null;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  stop?.();
  stop = null;
  vi.useRealTimers();
});

it("takes the sanitised preview out of a server page without running its scripts", () => {
  const nodes = previewFrom(PAGE("<h3>Rules</h3>"));

  expect(nodes?.map((node) => (node as Element).outerHTML)).toEqual(["<h3>Rules</h3>"]);
  expect((window as unknown as { __ran?: number }).__ran).toBeUndefined();
  expect(previewFrom("<p>no preview here</p>")).toBeNull();
});

it("Preview fetches the server's rendering in place, then follows the typing", async () => {
  setPage();
  const calls: { url: string; data: Record<string, FormDataEntryValue> }[] = [];
  const fetchPage: SendForm = async (url, form) => {
    const data = Object.fromEntries(form.entries());
    calls.push({ url, data });
    return PAGE(`<p>${String(data.body)}</p>`);
  };
  stop = enhanceGuidelines(document, fetchPage, 500);

  document.querySelector<HTMLButtonElement>('button[name="preview"]')!.click();
  await vi.runAllTimersAsync();

  expect(document.getElementById("preview")!.hidden).toBe(false);
  expect(calls).toEqual([
    {
      url: "http://localhost:3000/projects/1/guidelines/#edit",
      data: { csrfmiddlewaretoken: "t", body: "# Old", note: "", preview: "1" },
    },
  ]);
  expect(target().innerHTML).toBe("<p># Old</p>");

  body().value = "New text";
  body().dispatchEvent(new Event("input"));
  await vi.advanceTimersByTimeAsync(499);
  expect(calls).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(1);

  expect(calls).toHaveLength(2);
  expect(target().innerHTML).toBe("<p>New text</p>");
});

it("typing does not fetch until the author asked for a preview", async () => {
  setPage();
  const fetchPage = vi.fn<SendForm>();
  stop = enhanceGuidelines(document, fetchPage, 10);

  body().value = "x";
  body().dispatchEvent(new Event("input"));
  await vi.runAllTimersAsync();

  expect(fetchPage).not.toHaveBeenCalled();
});

it("says so when the preview cannot be loaded", async () => {
  setPage(false);
  stop = enhanceGuidelines(document, () => Promise.reject(new TypeError("offline")), 10);

  body().value = "x";
  body().dispatchEvent(new Event("input"));
  await vi.runAllTimersAsync();

  expect(target().textContent).toBe("The preview could not be loaded. Check your connection and press Preview again.");
});

it("asks before leaving with unsaved changes, not after saving", () => {
  setPage();
  stop = enhanceGuidelines(document, vi.fn<SendForm>());
  const leave = () => {
    const event = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(event);
    return event.defaultPrevented;
  };

  expect(leave()).toBe(false);
  body().value = "changed";
  expect(leave()).toBe(true);
  document.getElementById("guidelines-form")!.dispatchEvent(new Event("submit"));
  expect(leave()).toBe(false);
});

it("does nothing on a page without the form (readers)", () => {
  document.body.innerHTML = "<p>read only</p>";

  expect(enhanceGuidelines(document, vi.fn<SendForm>())).toBeNull();
});
