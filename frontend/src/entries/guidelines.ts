/**
 * Guidelines page: the server renders everything (the current version, history, diffs, and a
 * Preview button that re-renders the page without saving). This script only makes editing smoother:
 *
 * - Preview fetches the same server preview in place instead of reloading, and then keeps it up to
 *   date while the author types (debounced). The HTML comes from the server's sanitiser
 *   (projects.markdown.render_markdown), exactly as on a full page load.
 * - Leaving the page with unsaved changes asks first.
 *
 * Page contract: `#guidelines-form` with a `body` textarea and a `preview` submit button, and
 * `#preview` (hidden until used) containing `#guidelines-preview-body`.
 */
import { postForm } from "../api/http";
import "../schema/schema-pages.css";

/** Posts the form's data to the page and returns the HTML it answered (api/http.ts `postForm`). */
export type SendForm = (url: string, data: FormData) => Promise<string>;

export const LIVE_PREVIEW_DELAY_MS = 700;

/** The sanitised preview from a page the server rendered, or `null` if it has none. */
export function previewFrom(html: string): Node[] | null {
  const page = new DOMParser().parseFromString(html, "text/html");
  const body = page.getElementById("guidelines-preview-body");
  return body === null ? null : Array.from(body.childNodes, (node) => document.importNode(node, true));
}

export function enhanceGuidelines(
  root: Document,
  sendForm: SendForm,
  delayMs = LIVE_PREVIEW_DELAY_MS,
): (() => void) | null {
  const form = root.getElementById("guidelines-form");
  const panel = root.getElementById("preview");
  const target = root.getElementById("guidelines-preview-body");
  if (!(form instanceof HTMLFormElement) || panel === null || target === null) return null;
  const body = form.elements.namedItem("body");
  const button = form.querySelector<HTMLButtonElement>('button[name="preview"]');
  if (!(body instanceof HTMLTextAreaElement) || button === null) return null;

  const saved = body.value;
  let live = !panel.hidden; // the server already showed a preview: keep it live
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0; // answers to earlier requests are ignored
  let submitting = false;

  const refresh = async () => {
    const request = ++latest;
    const data = new FormData(form);
    data.set("preview", "1");
    panel.setAttribute("aria-busy", "true");
    try {
      const html = await sendForm(form.action || window.location.pathname, data);
      const nodes = previewFrom(html);
      if (request !== latest) return;
      if (nodes === null || nodes.length === 0) {
        const empty = root.createElement("p");
        empty.className = "muted";
        empty.textContent = "Nothing to preview yet.";
        target.replaceChildren(empty);
      } else target.replaceChildren(...nodes);
    } catch {
      if (request !== latest) return;
      const failed = root.createElement("p");
      failed.className = "error";
      failed.textContent = "The preview could not be loaded. Check your connection and press Preview again.";
      target.replaceChildren(failed);
    } finally {
      if (request === latest) panel.removeAttribute("aria-busy");
    }
  };

  const onPreview = (event: Event) => {
    event.preventDefault();
    live = true;
    panel.hidden = false;
    void refresh();
  };
  const onInput = () => {
    if (!live) return;
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), delayMs);
  };
  const onSubmit = () => {
    submitting = true;
  };
  const onLeave = (event: BeforeUnloadEvent) => {
    if (!submitting && body.value !== saved) {
      event.preventDefault();
      event.returnValue = ""; // older browsers need a value to ask
    }
  };

  button.addEventListener("click", onPreview);
  body.addEventListener("input", onInput);
  form.addEventListener("submit", onSubmit);
  window.addEventListener("beforeunload", onLeave);
  return () => {
    clearTimeout(timer);
    button.removeEventListener("click", onPreview);
    body.removeEventListener("input", onInput);
    form.removeEventListener("submit", onSubmit);
    window.removeEventListener("beforeunload", onLeave);
  };
}

enhanceGuidelines(document, (url, data) => postForm(url, data));
