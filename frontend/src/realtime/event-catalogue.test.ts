import { describe, expect, it } from "vitest";
import catalogue from "./events.json";
import { parseFeedEvent, SERVER_EVENT_TYPES } from "./project-feed";

// events.json is generated from the server's events.py modules (scripts/check_contracts.py --write).
describe("the server's event catalogue", () => {
  const catalogued = catalogue.events.map((event) => event.type);

  it("is exactly the list of event types the client knows the server sends", () => {
    expect([...SERVER_EVENT_TYPES].sort()).toEqual([...catalogued].sort());
  });

  it("decodes each declared type, or passes it on under its own name", () => {
    for (const event of catalogue.events) {
      const data: Record<string, unknown> = {};
      for (const [field, kind] of Object.entries(event.fields)) {
        data[field] = kind === "int" ? 1 : kind === "str" ? "x" : kind === "list[str]" ? ["x"] : {};
      }
      const parsed = parseFeedEvent(JSON.stringify({ type: event.type, data }));
      expect(parsed?.type === "unrecognized" ? parsed.name : parsed?.type).toBe(event.type);
    }
  });
});
