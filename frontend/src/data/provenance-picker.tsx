import { post } from "../api/http";

/** A provenance source of the project (annotation/provenance/): where items came from. */
export interface ProvenanceSource {
  id: number;
  name: string;
  kind: string;
  terms: Record<string, unknown>;
}

export const provenanceSourcesUrl = (projectId: number) => `/api/projects/${projectId}/provenance-sources/`;

/** The kinds and the terms each must state (docs/GOVERNANCE.md); required terms end without "?". */
export const KINDS: readonly (readonly [string, string, readonly (readonly [string, string, string])[]])[] = [
  ["public", "Public dataset", [["dataset", "Dataset name", ""], ["url", "URL", "https://…"], ["licence", "Licence (SPDX)", "CC-BY-4.0"]]],
  ["licensed", "Licensed from a third party", [["licensor", "Licensor", ""], ["agreement", "Agreement reference", ""], ["licence", "Licence (SPDX, optional)", ""]]],
  ["scraped", "Crawled or scraped", [["crawler", "Crawler", ""], ["domains", "Domains (comma-separated)", "example.org"], ["period_start", "From", "YYYY-MM-DD"], ["period_end", "Until", "YYYY-MM-DD"], ["robots", "robots.txt (respected, ignored, not_applicable)", "respected"], ["opt_out", "Opt-out policy (optional)", ""]]],
  ["user", "User data", [["legal_basis", "Legal basis (GDPR Art. 6)", ""], ["notice_url", "Privacy notice URL (optional)", ""]]],
  ["synthetic", "Synthetic", [["generator", "Generator", ""], ["model", "Model", ""], ["prompt_hash", "Prompt/template SHA-256 (optional)", ""]]],
  ["internal", "Internal", [["owner", "Owner or team", ""]]],
];

export const LEGAL_BASES = ["consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"];

/** What the picker holds: an existing source's id, a new source to create first, or nothing. */
export type ProvenanceChoice =
  | { type: "none" }
  | { type: "existing"; id: number }
  | { type: "new"; name: string; kind: string; terms: Record<string, string> };

/** Creates the new source (when one is being created) and returns the id to import with, or null. */
export async function resolveProvenance(projectId: number, choice: ProvenanceChoice): Promise<number | null> {
  if (choice.type === "none") return null;
  if (choice.type === "existing") return choice.id;
  const terms: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(choice.terms)) {
    if (value.trim() === "") continue;
    terms[key] = key === "domains" ? value.split(",").map((d) => d.trim()).filter((d) => d !== "") : value.trim();
  }
  const created = await post<ProvenanceSource>(provenanceSourcesUrl(projectId), { name: choice.name, kind: choice.kind, terms });
  return created.id;
}

export function ProvenancePicker({
  sources,
  choice,
  onChange,
}: {
  /** The project's sources, from the page config (no request on mount). */
  sources: readonly ProvenanceSource[];
  choice: ProvenanceChoice;
  onChange: (choice: ProvenanceChoice) => void;
}) {
  const value = choice.type === "existing" ? String(choice.id) : choice.type;
  const select = (raw: string) => {
    if (raw === "none") onChange({ type: "none" });
    else if (raw === "new") onChange({ type: "new", name: "", kind: "public", terms: {} });
    else onChange({ type: "existing", id: Number(raw) });
  };
  const spec = choice.type === "new" ? KINDS.find(([kind]) => kind === choice.kind) : undefined;
  return (
    <div class="field import-provenance">
      <label for="import-provenance">Source</label>
      <select id="import-provenance" value={value} onChange={(event) => select(event.currentTarget.value)}>
        <option value="none">Not stated</option>
        {sources.map((source) => (
          <option key={source.id} value={String(source.id)}>
            {source.name} ({source.kind})
          </option>
        ))}
        <option value="new">New source…</option>
      </select>
      {choice.type === "new" && (
        <div class="import-provenance__new" id="import-provenance-new">
          <div>
          <label for="provenance-name">Source name</label>
          <input
            id="provenance-name"
            type="text"
            maxLength={100}
            value={choice.name}
            onInput={(event) => onChange({ ...choice, name: event.currentTarget.value })}
          />
          </div>
          <div>
          <label for="provenance-kind">Kind</label>
          <select
            id="provenance-kind"
            value={choice.kind}
            onChange={(event) => onChange({ ...choice, kind: event.currentTarget.value, terms: {} })}
          >
            {KINDS.map(([kind, label]) => (
              <option key={kind} value={kind}>
                {label}
              </option>
            ))}
          </select>
          </div>
          {spec?.[2].map(([key, label, placeholder]) => (
            <div key={key}>
              <label for={`provenance-${key}`}>{label}</label>
              {key === "legal_basis" ? (
                <select
                  id={`provenance-${key}`}
                  value={choice.terms[key] ?? ""}
                  onChange={(event) => onChange({ ...choice, terms: { ...choice.terms, [key]: event.currentTarget.value } })}
                >
                  <option value="">Choose…</option>
                  {LEGAL_BASES.map((basis) => (
                    <option key={basis} value={basis}>
                      {basis.replace(/_/g, " ")}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={`provenance-${key}`}
                  type="text"
                  placeholder={placeholder}
                  value={choice.terms[key] ?? ""}
                  onInput={(event) => onChange({ ...choice, terms: { ...choice.terms, [key]: event.currentTarget.value } })}
                />
              )}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
