import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { parseImportJob, type ImportJob, type UploadXhr } from "./imports";
import { parseFeedEvent, type FeedEvent, type FeedStatus } from "../realtime/project-feed";
import { ImportPanel, ImportResult, importPercent, labelSummary, resultSummary, type ImportPanelConfig } from "./import-panel";

// --- Fakes -----------------------------------------------------------------------------------------

/** Records what the panel sends; the test answers with progress() and respond(). */
class FakeXhr implements UploadXhr {
  static all: FakeXhr[] = [];
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  statusText = "";
  responseText = "";
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  onload: ((event: ProgressEvent) => void) | null = null;
  onerror: ((event: ProgressEvent) => void) | null = null;
  onabort: ((event: ProgressEvent) => void) | null = null;
  aborted = false;

  constructor() {
    FakeXhr.all.push(this);
  }
  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: FormData): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.({} as ProgressEvent);
  }

  async progress(loaded: number, total: number): Promise<void> {
    await act(async () => this.upload.onprogress?.({ lengthComputable: true, loaded, total } as ProgressEvent));
  }
  async respond(status: number, body: unknown, statusText = ""): Promise<void> {
    this.status = status;
    this.statusText = statusText;
    this.responseText = typeof body === "string" ? body : JSON.stringify(body);
    await act(async () => {
      this.onload?.({} as ProgressEvent);
      await vi.advanceTimersByTimeAsync(0);
    });
  }
}

/** A feed the test drives by hand. Events go through the real parser, as on the wire. */
function fakeFeed(initial: FeedStatus = "open") {
  const eventHandlers = new Set<(event: FeedEvent) => void>();
  const statusHandlers = new Set<(status: FeedStatus) => void>();
  const feed = {
    status: initial,
    subscribe(handler: (event: FeedEvent) => void) {
      eventHandlers.add(handler);
      return () => eventHandlers.delete(handler);
    },
    onStatus(handler: (status: FeedStatus) => void) {
      statusHandlers.add(handler);
      return () => statusHandlers.delete(handler);
    },
  };
  return {
    feed,
    async send(type: string, data: Record<string, unknown>) {
      const event = parseFeedEvent(JSON.stringify({ type, data }));
      if (event === null) throw new Error("test sent a malformed event");
      await act(async () => {
        eventHandlers.forEach((handler) => {
        handler(event);
      });
        await vi.advanceTimersByTimeAsync(0);
      });
    },
    async setStatus(status: FeedStatus) {
      feed.status = status;
      await act(async () => statusHandlers.forEach((handler) => {
        handler(status);
      }));
    },
  };
}

const fetchMock = vi.fn<typeof fetch>();

function job(overrides: Partial<ImportJob> = {}): ImportJob {
  return {
    id: 42,
    status: "queued",
    mode: "all_or_nothing",
    format: "jsonl",
    original_name: "reviews.jsonl",
    size_bytes: 1000,
    received: 0,
    created: 0,
    duplicates: 0,
    rejected: 0,
    error_count: 0,
    error_sample: [],
    error_report_url: null,
    label_counts: null,
    detail: "",
    progress: null,
    created_by: "manager",
    created_at: "2025-03-14T09:05:00Z",
    ...overrides,
  };
}

const DONE = job({ status: "succeeded", received: 1003, created: 1000, duplicates: 3 });

// --- Mounting --------------------------------------------------------------------------------------

const CONFIG: ImportPanelConfig = {
  projectId: 7,
  maxBytes: 5000,
  modes: [
    ["all_or_nothing", "All or nothing"],
    ["valid_rows", "Import valid rows, report the rest"],
  ],
  consents: [
    ["unknown", "Unknown"],
    ["granted", "Granted"],
  ],
  itemsUrl: "/projects/7/data/",
};

let container: HTMLElement;

function mount(feed: ReturnType<typeof fakeFeed>["feed"]) {
  act(() => {
    render(<ImportPanel config={CONFIG} feed={feed} Xhr={FakeXhr} />, container);
  });
}

const $ = <T extends Element = HTMLElement>(selector: string) => container.querySelector<T>(selector);
const percent = () => $("#import-progress")?.getAttribute("aria-valuenow");
const statusText = () => $("#import-status")?.textContent?.trim();

async function choose(name = "reviews.jsonl", size = 1000) {
  const input = $<HTMLInputElement>("#import-file");
  if (input === null) throw new Error("no file input");
  const file = new File(["x".repeat(size)], name, { type: "application/x-ndjson" });
  Object.defineProperty(input, "files", { value: [file], configurable: true });
  await act(async () => {
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

async function submit() {
  await act(async () => {
    $<HTMLFormElement>("form")?.requestSubmit();
  });
}

/** Mounts, chooses a file and presses Import; returns the request the panel opened. */
async function startUpload(feedStatus: FeedStatus = "open") {
  const feed = fakeFeed(feedStatus);
  mount(feed.feed);
  await choose();
  await submit();
  const xhr = FakeXhr.all.at(-1);
  if (xhr === undefined) throw new Error("no upload started");
  return { feed, xhr };
}

/** Lets `ms` of fake time pass, running timers, promises and Preact's effects. */
async function tick(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

function answerFetch(...bodies: ImportJob[]) {
  for (const body of bodies) {
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify(body), { status: 200 }));
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeXhr.all = [];
  vi.stubGlobal("fetch", fetchMock);
  document.cookie = "csrftoken=Tok3n";
  container = document.createElement("div");
  document.body.append(container);
});

afterEach(() => {
  render(null, container);
  document.body.replaceChildren();
  fetchMock.mockReset();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
});

// --- Tests -----------------------------------------------------------------------------------------

describe("importPercent", () => {
  it("maps upload bytes to 0-50 and server bytes to 50-100, holding 99 until the job finished", () => {
    expect(importPercent(null, null, false)).toBe(0);
    expect(importPercent({ loaded: 250, total: 1000 }, null, false)).toBe(12);
    expect(importPercent({ loaded: 1000, total: 1000 }, null, false)).toBe(50);
    expect(importPercent({ loaded: 1000, total: 1000 }, { bytes_read: 0, size_bytes: 1000 }, false)).toBe(50);
    expect(importPercent({ loaded: 1000, total: 1000 }, { bytes_read: 500, size_bytes: 1000 }, false)).toBe(75);
    expect(importPercent(null, { bytes_read: 1000, size_bytes: 1000 }, false)).toBe(99);
    expect(importPercent(null, { bytes_read: 5, size_bytes: 0 }, false)).toBe(50);
    expect(importPercent(null, null, true)).toBe(100);
  });
});

describe("resultSummary", () => {
  it("counts with thousands separators and singular forms", () => {
    expect(resultSummary({ created: 1000, duplicates: 3, rejected: 0 })).toBe(
      "Imported 1,000 items · 3 duplicates skipped · 0 rejected",
    );
    expect(resultSummary({ created: 1, duplicates: 1, rejected: 2 })).toBe(
      "Imported 1 item · 1 duplicate skipped · 2 rejected",
    );
  });
});

describe("Label Studio label counts", () => {
  const counts = {
    annotations: { received: 60, imported: 55, cancelled: 5, rejected: 0, duplicates: 0 },
    predictions: { received: 27, imported: 27, rejected: 0, duplicates: 0 },
    annotators: 4,
  };

  it("says what happened to every annotation and prediction", () => {
    expect(labelSummary(counts)).toEqual([
      "Annotations: 55 imported · 5 cancelled (kept as skips) · 0 rejected (of 60)",
      "Predictions: 27 imported · 0 rejected (of 27)",
      "4 imported annotators",
    ]);
    expect(
      labelSummary({
        annotations: { received: 12, imported: 0, rejected: 5, not_imported: 7 },
        predictions: { received: 2, imported: 0, rejected: 2 },
        annotators: 0,
      }),
    ).toEqual([
      "Annotations: 0 imported · 5 rejected · 7 not imported (the import was refused) (of 12)",
      "Predictions: 0 imported · 2 rejected (of 2)",
    ]);
  });

  it("reads label_counts from the API and shows them in the result", () => {
    const parsed = parseImportJob({ ...job({ status: "succeeded", format: "labelstudio" }), label_counts: counts });
    expect(parsed?.label_counts).toEqual(counts);
    expect(parseImportJob({ ...job(), label_counts: {} })?.label_counts).toBeNull();
    const root = document.createElement("div");
    render(<ImportResult job={parsed!} itemsUrl="/projects/7/data/" onReset={() => {}} />, root);
    expect(root.querySelector("#import-label-counts")?.textContent).toContain("55 imported");
  });
});

describe("ImportPanel", () => {
  it("uses a label as the drop zone for a real file input", () => {
    mount(fakeFeed().feed);

    const input = $<HTMLInputElement>("#import-file");
    expect(input?.type).toBe("file");
    expect($("label.import-drop")?.getAttribute("for")).toBe("import-file");
    expect(input?.labels?.[0]?.textContent).toContain("Drop a file here or choose a file");
    expect($("#import-progress")).toBeNull();
  });

  it("asks for a file instead of uploading nothing", async () => {
    mount(fakeFeed().feed);

    await submit();

    expect($("#import-form-error")?.textContent).toBe("Choose a file to import.");
    expect(FakeXhr.all).toHaveLength(0);
  });

  it("posts the file and the options as multipart with the CSRF token", async () => {
    const feed = fakeFeed();
    mount(feed.feed);
    await choose();
    await act(async () => {
      $<HTMLInputElement>("input[value=valid_rows]")?.click();
      const licence = $<HTMLInputElement>("#import-licence")!;
      licence.value = " CC-BY-4.0 ";
      licence.dispatchEvent(new Event("input", { bubbles: true }));
      const consent = $<HTMLSelectElement>("#import-consent")!;
      consent.value = "granted";
      consent.dispatchEvent(new Event("change", { bubbles: true }));
      $<HTMLInputElement>("#import-synthetic")?.click();
    });
    await act(async () => {
      const generator = $<HTMLInputElement>("#import-generator")!;
      generator.value = "llama-3";
      generator.dispatchEvent(new Event("input", { bubbles: true }));
    });

    await submit();

    const xhr = FakeXhr.all[0]!;
    expect([xhr.method, xhr.url]).toEqual(["POST", "/api/projects/7/imports/"]);
    expect(xhr.headers).toEqual({ Accept: "application/json", "X-CSRFToken": "Tok3n" });
    const sent = Object.fromEntries([...xhr.body!.entries()].map(([key, value]) => [key, typeof value === "string" ? value : value.name]));
    expect(sent).toEqual({
      file: "reviews.jsonl",
      mode: "valid_rows",
      licence: "CC-BY-4.0",
      consent: "granted",
      synthetic: "true",
      generator: "llama-3",
    });
    expect($<HTMLButtonElement>("button[type=submit]")?.disabled).toBe(true);
  });

  it("fills the bar with the upload, then with the server's events, and shows the counts", async () => {
    const { feed, xhr } = await startUpload("open");
    expect(percent()).toBe("0");
    expect($("#import-progress")?.getAttribute("role")).toBe("progressbar");

    await xhr.progress(500, 1000);
    expect(percent()).toBe("25");
    expect(statusText()).toContain("Uploading: 500 bytes of 1.0 kB");

    await xhr.respond(202, job());
    expect(percent()).toBe("50");
    expect(statusText()).toContain("Waiting for a worker");

    const reading = { project_id: 7, job_id: 42, phase: "reading", received: 600, bytes_read: 500, size_bytes: 1000 };
    await feed.send("import.progress", reading);
    expect(percent()).toBe("75");
    expect(statusText()).toBe("75 % Checking records: 600 read");

    await feed.send("import.progress", { ...reading, job_id: 41, bytes_read: 1000 }); // someone else's import
    expect(percent()).toBe("75");

    await feed.send("import.progress", { ...reading, phase: "loading", received: 1003, bytes_read: 1000 });
    expect(percent()).toBe("99");
    expect(fetchMock).not.toHaveBeenCalled();

    answerFetch(DONE);
    await feed.send("import.finished", { project_id: 7, job_id: 42, status: "succeeded", received: 1003, created: 1000, duplicates: 3, rejected: 0, detail: "" });

    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/projects/7/imports/42/");
    expect(percent()).toBe("100");
    expect(statusText()).toBe("Imported 1,000 items · 3 duplicates skipped · 0 rejected");
    expect($<HTMLAnchorElement>("#import-result a[href='/projects/7/data/?import_job=42']")?.textContent).toBe(
      "Show the imported items",
    );
  });

  it("shows a job that finished before the upload's answer arrived (events are kept until then)", async () => {
    const { feed, xhr } = await startUpload("open");
    await feed.send("import.finished", { project_id: 7, job_id: 42, status: "succeeded", received: 1003, created: 1000, duplicates: 3, rejected: 0, detail: "" });
    answerFetch(DONE);

    await xhr.respond(202, job({ status: "running" }));

    expect(percent()).toBe("100");
    expect(statusText()).toBe("Imported 1,000 items · 3 duplicates skipped · 0 rejected");
  });

  it("shows a finished job from the upload's answer without asking again", async () => {
    const { xhr } = await startUpload("open");

    await xhr.respond(202, DONE);

    expect(percent()).toBe("100");
    expect(statusText()).toBe("Imported 1,000 items · 3 duplicates skipped · 0 rejected");
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("renders a failed import's detail and errors as text, with the report link", async () => {
    const { xhr } = await startUpload("open");
    const evil = '<img src=x onerror="window.__xss=1">';
    const failed = job({
      status: "failed",
      received: 3,
      rejected: 1,
      error_count: 25,
      detail: `1 problem(s) found; nothing was imported. ${evil}`,
      error_sample: [{ line: 2, field: `data.${evil}`, reason: `not valid JSON: ${evil}` }],
      error_report_url: "/api/projects/7/imports/42/errors/",
    });

    await xhr.respond(202, failed);

    expect(statusText()).toBe("Nothing was imported.");
    expect($("#import-progress")?.className).toContain("import-progress--failed");
    expect($(".import-result__detail")?.textContent).toBe(`1 problem(s) found; nothing was imported. ${evil}`);
    const cells = [...container.querySelectorAll("#import-errors tbody td")].map((td) => td.textContent);
    expect(cells).toEqual(["2", `data.${evil}`, `not valid JSON: ${evil}`]);
    expect(container.querySelector("img")).toBeNull();
    const report = $<HTMLAnchorElement>("#import-error-report");
    expect(report?.getAttribute("href")).toBe("/api/projects/7/imports/42/errors/");
    expect(report?.textContent).toBe("Download the error report (CSV, 25 problems)");
    expect($("#import-result")?.textContent).not.toContain("Show the imported items");
  });

  it.each([
    [413, { code: "file_too_large", detail: "The file is 9 bytes; the limit is 5 bytes." }, "The file is 9 bytes; the limit is 5 bytes.", "file_too_large"],
    [400, { code: "unknown_format", detail: "Unknown format 'xml'; use one of jsonl, csv." }, "Unknown format 'xml'; use one of jsonl, csv.", "unknown_format"],
    [413, "<html>Request Entity Too Large</html>", "The file is larger than the server accepts.", "file_too_large"],
    [502, "<html>Bad gateway</html>", "Bad Gateway", "http_502"],
  ])("shows the API's error %i to the user", async (status, body, detail, code) => {
    const { xhr } = await startUpload("open");

    await xhr.respond(status, body, status === 502 ? "Bad Gateway" : "");

    const alert = $("#import-error");
    expect(alert?.getAttribute("role")).toBe("alert");
    expect(alert?.textContent).toContain(detail);
    expect(alert?.querySelector("code")?.textContent).toBe(code);
    expect($<HTMLButtonElement>("button[type=submit]")?.disabled).toBe(false);
  });

  it("shows a network failure during the upload", async () => {
    const { xhr } = await startUpload("open");

    await act(async () => {
      xhr.onerror?.({} as ProgressEvent);
      await vi.advanceTimersByTimeAsync(0);
    });

    expect($("#import-error")?.textContent).toContain("The upload was interrupted.");
  });

  it("refuses a file over the limit before uploading it", async () => {
    mount(fakeFeed().feed);
    await choose("big.jsonl", 6000);

    await submit();

    expect(FakeXhr.all).toHaveLength(0);
    expect($("#import-error")?.textContent).toContain("The file is 6,000 bytes; the limit is 5,000 bytes.");
  });

  it("cancels an upload", async () => {
    const { xhr } = await startUpload("open");

    await act(async () => {
      $<HTMLButtonElement>(".import-actions .button--ghost")?.click();
      await vi.advanceTimersByTimeAsync(0);
    });

    expect(xhr.aborted).toBe(true);
    expect($("#import-form-error")?.textContent).toBe("Upload cancelled. Nothing was imported.");
    expect($("#import-progress")).toBeNull();
  });

  it("polls the job every second when the socket is not open, until it finished", async () => {
    const { xhr } = await startUpload("closed");
    await xhr.respond(202, job());
    expect(fetchMock).not.toHaveBeenCalled();

    answerFetch(job({ status: "running", progress: { phase: "reading", received: 10, bytes_read: 500, size_bytes: 1000 } }));
    await tick(1000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/projects/7/imports/42/");
    expect(percent()).toBe("75");

    answerFetch(DONE);
    await tick(1000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(percent()).toBe("100");
    expect(statusText()).toBe("Imported 1,000 items · 3 duplicates skipped · 0 rejected");

    await tick(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("starts polling when the socket drops during the import", async () => {
    const { feed, xhr } = await startUpload("open");
    await xhr.respond(202, job());
    await tick(1000);
    expect(fetchMock).not.toHaveBeenCalled(); // the socket reports progress

    await feed.setStatus("closed");
    answerFetch(DONE);
    await tick(1000);

    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(percent()).toBe("100");
  });

  it("keeps polling through network blips and reports other errors", async () => {
    const { xhr } = await startUpload("closed");
    await xhr.respond(202, job());

    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    await tick(1000);
    expect($("#import-error")).toBeNull();

    fetchMock.mockResolvedValueOnce(new Response('{"code": "not_found", "detail": "Not found."}', { status: 404 }));
    await tick(1000);

    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect($("#import-error")?.textContent).toContain("Not found.");
  });
});
