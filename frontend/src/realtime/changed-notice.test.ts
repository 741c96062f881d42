import { beforeEach, expect, it } from "vitest";

import { changedNoticeHandler } from "./changed-notice";

let notice: HTMLElement;

beforeEach(() => {
  document.body.innerHTML = `<p id="n" hidden>Changed by <strong data-changed-by></strong>. Reload.</p>`;
  notice = document.getElementById("n") as HTMLElement;
});

it("reveals the notice with the actor's name as text when settings change", () => {
  const handle = changedNoticeHandler(notice);

  handle({ type: "project.updated", data: { project_id: 1, actor: "<b>mallory</b>", fields: ["overlap"] } });

  expect(notice.hidden).toBe(false);
  expect(notice.querySelector("[data-changed-by]")?.textContent).toBe("<b>mallory</b>");
  expect(notice.querySelector("b")).toBeNull();
});

it("ignores events that do not change settings", () => {
  const handle = changedNoticeHandler(notice);

  handle({ type: "member.added", data: { project_id: 1, actor: "ana", username: "rui", role: "reviewer" } });
  handle({ type: "project.stats_updated", data: { project_id: 1, stats: { members: 1, managers: 1, reviewers: 0, annotators: 0, schema_versions: 0, guideline_versions: 0 } } });

  expect(notice.hidden).toBe(true);
});

it("reveals the notice when the project is archived", () => {
  const handle = changedNoticeHandler(notice);

  handle({ type: "project.archived", data: { project_id: 1, actor: "admin" } });

  expect(notice.hidden).toBe(false);
  expect(notice.querySelector("[data-changed-by]")?.textContent).toBe("admin");
});
