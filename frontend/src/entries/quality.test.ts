import { describe, expect, it } from "vitest";

import { readQualityConfig } from "./quality";

function container(attrs: Record<string, string>): HTMLElement {
  const div = document.createElement("div");
  for (const [name, value] of Object.entries(attrs)) div.setAttribute(name, value);
  return div;
}

describe("readQualityConfig", () => {
  it("reads the API base, feed path and manager flag from data attributes", () => {
    const config = readQualityConfig(
      container({ "data-api-base": "/api/projects/3/", "data-feed-path": "/ws/projects/3/", "data-can-manage": "1" }),
    );
    expect(config).toEqual({ apiBase: "/api/projects/3/", feedPath: "/ws/projects/3/", canManage: true });
  });

  it("treats anything but 1 as not a manager", () => {
    const config = readQualityConfig(
      container({ "data-api-base": "/api/projects/3/", "data-feed-path": "/ws/projects/3/", "data-can-manage": "0" }),
    );
    expect(config?.canManage).toBe(false);
  });

  it.each([
    [{ "data-feed-path": "/ws/projects/3/" }],
    [{ "data-api-base": "https://evil.example/", "data-feed-path": "/ws/projects/3/" }],
    [{ "data-api-base": "//evil.example/", "data-feed-path": "/ws/projects/3/" }],
    [{ "data-api-base": "/api/projects/3/", "data-feed-path": "javascript:alert(1)" }],
  ])("refuses a config that is missing or not a same-origin path: %o", (attrs) => {
    expect(readQualityConfig(container(attrs))).toBeNull();
  });
});
