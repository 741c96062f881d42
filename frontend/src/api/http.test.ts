import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError, OUTAGE_MAX_WAIT_MS, OUTAGE_RETRIES, get, post, postForm, readCookie, request, retryAfterMs } from "./http";

const fetchMock = vi.fn<typeof fetch>();

function respond(body: string | null, init: ResponseInit = {}): void {
  fetchMock.mockResolvedValueOnce(new Response(body, init));
}

/** The headers of the n-th fetch call, as a plain object. */
function sentHeaders(call = 0): Record<string, string> {
  const init = fetchMock.mock.calls[call]?.[1];
  return { ...(init?.headers as Record<string, string>) };
}

/** Awaits a promise that must reject with an ApiError and returns the error. */
async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

beforeEach(() => {
  vi.stubGlobal("fetch", fetchMock);
  document.cookie = "sessionid=s3ss10n";
  document.cookie = "csrftoken=Tok3nFromCookie";
});

afterEach(() => {
  fetchMock.mockReset();
  vi.unstubAllGlobals();
  document.cookie = "sessionid=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
});

describe("request", () => {
  it("sends the CSRF token from the cookie on POST, with a JSON body", async () => {
    respond('{"id": 12}', { status: 201 });

    const result = await post<{ id: number }>("/api/projects/", { name: "Demo" });

    expect(result).toEqual({ id: 12 });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/projects/");
    expect(init?.method).toBe("POST");
    expect(init?.body).toBe('{"name":"Demo"}');
    expect(init?.credentials).toBe("same-origin");
    expect(sentHeaders()).toEqual({
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": "Tok3nFromCookie",
    });
  });

  it("does not send the CSRF token on GET", async () => {
    respond('[{"id": 1}]');

    const result = await get<{ id: number }[]>("/api/projects/");

    expect(result).toEqual([{ id: 1 }]);
    expect(fetchMock.mock.calls[0]?.[1]?.method).toBe("GET");
    expect(fetchMock.mock.calls[0]?.[1]?.body).toBeUndefined();
    expect(sentHeaders()).toEqual({ Accept: "application/json" });
  });

  it("sends the CSRF token on DELETE and returns undefined for 204", async () => {
    respond(null, { status: 204 });

    await expect(request("DELETE", "/api/projects/1/members/2/")).resolves.toBeUndefined();
    expect(sentHeaders()).toEqual({ Accept: "application/json", "X-CSRFToken": "Tok3nFromCookie" });
  });

  it("throws ApiError with the server's code, detail and field errors", async () => {
    respond(
      JSON.stringify({
        code: "validation_error",
        detail: "Please fix the highlighted fields.",
        errors: { name: ["This field is required."], overlap: ["Must be at least 1.", "Must be at most 10."] },
      }),
      { status: 400, headers: { "Content-Type": "application/json" } },
    );

    const error = await apiError(post("/api/projects/", {}));

    expect(error.name).toBe("ApiError");
    expect(error.status).toBe(400);
    expect(error.code).toBe("validation_error");
    expect(error.detail).toBe("Please fix the highlighted fields.");
    expect(error.message).toBe("Please fix the highlighted fields.");
    expect(error.errors).toEqual({
      name: ["This field is required."],
      overlap: ["Must be at least 1.", "Must be at most 10."],
    });
  });

  it("defaults errors to an empty object when the body has none", async () => {
    respond('{"code": "not_a_member", "detail": "You are not a member of this project."}', { status: 403 });

    const error = await apiError(get("/api/projects/3/"));

    expect(error.status).toBe(403);
    expect(error.code).toBe("not_a_member");
    expect(error.detail).toBe("You are not a member of this project.");
    expect(error.errors).toEqual({});
  });

  it('uses code "http_<status>" when the error body is not JSON', async () => {
    respond("<h1>Server Error (500)</h1>", { status: 500, statusText: "Internal Server Error" });

    const error = await apiError(get("/api/projects/"));

    expect(error.status).toBe(500);
    expect(error.code).toBe("http_500");
    expect(error.detail).toBe("Internal Server Error");
    expect(error.errors).toEqual({});
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));

    const error = await apiError(get("/api/projects/"));

    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.detail).toBe("Could not reach the server. Check your connection and try again.");
  });
});

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("csrftoken", "a=1; csrftoken=x%2By; b=2")).toBe("x+y");
    expect(readCookie("csrftoken", "xcsrftoken=1")).toBeUndefined();
  });
});

describe("outages (503 + Retry-After)", () => {
  it("retries a 503 after the delay the server asked for, capped", async () => {
    respond('{"code": "service_unavailable", "detail": "down"}', { status: 503, headers: { "Retry-After": "5" } });
    respond('{"code": "service_unavailable", "detail": "down"}', { status: 503, headers: { "Retry-After": "60" } });
    respond('{"ok": true}', { status: 200 });
    const slept: number[] = [];

    const result = await request<{ ok: boolean }>("POST", "/api/x/", {
      body: {},
      sleep: async (ms) => void slept.push(ms),
    });

    expect(result).toEqual({ ok: true });
    expect(slept).toEqual([5000, OUTAGE_MAX_WAIT_MS]);
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it("gives up after a few retries and raises the server's error", async () => {
    for (let i = 0; i <= OUTAGE_RETRIES; i++) {
      respond('{"code": "service_unavailable", "detail": "down"}', { status: 503, headers: { "Retry-After": "1" } });
    }
    const error = await apiError(request("GET", "/api/x/", { sleep: async () => undefined }));
    expect([error.status, error.code, error.transient]).toEqual([503, "service_unavailable", true]);
    expect(fetchMock).toHaveBeenCalledTimes(OUTAGE_RETRIES + 1);
  });

  it("does not retry a 503 without Retry-After, nor other errors", async () => {
    respond('{"code": "service_unavailable", "detail": "down"}', { status: 503 });
    expect((await apiError(get("/api/x/"))).status).toBe(503);
    respond('{"code": "conflict", "detail": "no"}', { status: 409, headers: { "Retry-After": "1" } });
    expect((await apiError(get("/api/x/"))).status).toBe(409);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});

describe("error body, headers and forms", () => {
  it("keeps the whole error body and its problems list", async () => {
    respond(JSON.stringify({ code: "invalid_annotation", detail: "bad", errors: [{ path: "a", code: "x", message: "m" }], guideline_version: 3 }), {
      status: 400,
    });
    const error = await apiError(post("/api/x/", {}));
    expect(error.body.guideline_version).toBe(3);
    expect(error.problems).toEqual([{ path: "a", code: "x", message: "m" }]);
    expect(error.transient).toBe(false);
  });

  it("sends extra headers and keepalive through an injected transport", async () => {
    const transport = vi.fn<typeof fetch>().mockResolvedValue(new Response(null, { status: 204 }));
    await request("PUT", "/api/x/", { body: {}, headers: { "Idempotency-Key": "k" }, keepalive: true, fetch: transport });
    const init = transport.mock.calls[0]?.[1];
    expect((init?.headers as Record<string, string> | undefined)?.["Idempotency-Key"]).toBe("k");
    expect(init?.keepalive).toBe(true);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("posts a form as multipart with the CSRF header and returns the HTML", async () => {
    respond("<p>page</p>", { status: 200 });
    const data = new FormData();
    data.set("body", "x");
    expect(await postForm("/projects/1/guidelines/", data)).toBe("<p>page</p>");
    const init = fetchMock.mock.calls[0]?.[1];
    expect(init?.body).toBe(data);
    expect(sentHeaders()).toEqual({ Accept: "text/html", "X-CSRFToken": "Tok3nFromCookie" });
  });
});
