/** Typed calls to the quality API (and the members API for Re-qualify). Errors are `ApiError`s. */
import { ApiError, get, post } from "../api/http";
import type { MemberRow, QualityHistory, QualityReport, QualityStatus } from "./types";

export interface QualityApi {
  /** The latest report, or `null` before the first run (404 no_report). */
  report(): Promise<QualityReport | null>;
  history(): Promise<QualityHistory>;
  recompute(): Promise<void>;
  status(): Promise<QualityStatus>;
  members(): Promise<MemberRow[]>;
  resume(membershipId: number): Promise<void>;
}

interface Page<T> {
  results: T[];
  next: string | null;
}

/** The API for one project; `apiBase` is "/api/projects/<id>/". */
export function qualityApi(apiBase: string): QualityApi {
  const base = apiBase.replace(/\/?$/, "/");
  return {
    async report() {
      try {
        return await get<QualityReport>(`${base}quality/`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404 && error.code === "no_report") return null;
        throw error;
      }
    },
    history: () => get<QualityHistory>(`${base}quality/history/`),
    async recompute() {
      await post<unknown>(`${base}quality/recompute/`);
    },
    status: () => get<QualityStatus>(`${base}quality/status/`),
    async members() {
      const all: MemberRow[] = [];
      let url: string | null = `${base}members/?page_size=500`;
      // Follow `next` links; a project has at most a few hundred members.
      for (let pages = 0; url !== null && pages < 20; pages += 1) {
        const page: Page<MemberRow> | MemberRow[] = await get<Page<MemberRow> | MemberRow[]>(url);
        if (Array.isArray(page)) return page;
        all.push(...page.results);
        url = page.next;
      }
      return all;
    },
    async resume(membershipId: number) {
      await post<unknown>(`${base}members/${membershipId}/resume/`);
    },
  };
}
