import type { Control, ControlType, Definition } from "./schema-definition";

/**
 * The options of one control beyond its labels, as inputs: rating ends and labels, pairwise tie and
 * strength, free-text length and placeholder, overlap and multiple-choice switches, and `show_if`
 * (show this control only when an earlier one has a given answer). Which options a control has comes
 * from the server's registry (`ControlType.options`); how each is edited is the table below. An
 * emptied input removes the option (the server's default applies).
 */
type Kind = "bool" | "number" | "text" | "level" | "spans" | "roles";

const OPTION_KINDS: Record<string, { kind: Kind; label: string; hint?: string }> = {
  allow_tie: { kind: "bool", label: "Allow a tie" },
  strength: { kind: "bool", label: "Ask how strong the preference is" },
  allow_overlap: { kind: "bool", label: "Regions may overlap" },
  multiple: { kind: "bool", label: "Several answers allowed" },
  directed: { kind: "bool", label: "Relations have a direction" },
  ordered: { kind: "bool", label: "Labels are ordered (agreement is ordinal)" },
  min: { kind: "number", label: "Lowest value" },
  max: { kind: "number", label: "Highest value" },
  step: { kind: "number", label: "Step" },
  min_label: { kind: "text", label: "Label of the lowest value", hint: "e.g. poor" },
  max_label: { kind: "text", label: "Label of the highest value", hint: "e.g. excellent" },
  min_length: { kind: "number", label: "Minimum length (characters)" },
  max_length: { kind: "number", label: "Maximum length (characters)" },
  placeholder: { kind: "text", label: "Placeholder", hint: "shown in the empty box" },
  level: { kind: "level", label: "Level of measurement" },
  spans: { kind: "spans", label: "Spans control it links" },
  per_turn_roles: { kind: "roles", label: "Roles whose turns are labelled", hint: "assistant, user" },
};

/** The options of `type` this component edits, in the table's order. */
export function editableOptions(type: ControlType | undefined): string[] {
  const options = new Set(type?.options ?? []);
  return Object.keys(OPTION_KINDS).filter((option) => options.has(option));
}

/** The value an input's text stands for; `undefined` removes the option. */
export function parseOption(kind: Kind, raw: string): unknown {
  const text = raw.trim();
  if (text === "") return undefined;
  if (kind === "number") {
    // "0." while typing stays text (the input keeps what was typed); the validator names the problem.
    return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }
  if (kind === "roles") {
    const roles = text
      .split(/[\s,]+/)
      .map((role) => role.trim())
      .filter(Boolean);
    return roles.length ? roles : undefined;
  }
  return text;
}

/** `show_if` from the chosen control and the answer text ("a" or "a, b" for any of several). */
export function showIfFrom(control: string, answers: string): Control["show_if"] | undefined {
  if (control === "") return undefined;
  const values = answers
    .split(",")
    .map((value) => value.trim())
    .filter(Boolean);
  return values.length > 1 ? { control, in: values } : { control, equals: values[0] ?? "" };
}

export interface ControlOptionsProps {
  index: number;
  definition: Definition;
  type: ControlType | undefined;
  change(patch: Record<string, unknown>): void;
}

export function ControlOptions({ index, definition, type, change }: ControlOptionsProps) {
  const control = definition.controls[index];
  if (control === undefined) return null;
  const name = String(control.name ?? "");
  const options = editableOptions(type);
  const earlier = definition.controls.slice(0, index).map((c) => String(c.name ?? ""));
  const showIf = control.show_if;
  const answers = showIf === undefined ? "" : Array.isArray(showIf.in) ? showIf.in.join(", ") : String(showIf.equals ?? "");
  return (
    <div class="sb-options" data-options-of={name}>
      {options.map((option) => {
        const { kind, label, hint } = OPTION_KINDS[option] ?? { kind: "text" as Kind, label: option };
        const value = control[option];
        const aria = `${name}: ${label}`;
        if (kind === "bool")
          return (
            <label class="sb-check" key={option}>
              <input
                type="checkbox"
                checked={value === true}
                aria-label={aria}
                onChange={(e) => change({ [option]: (e.currentTarget as HTMLInputElement).checked || undefined })}
              />
              {label}
            </label>
          );
        if (kind === "level" || kind === "spans") {
          const choices =
            kind === "level"
              ? ["ordinal", "interval"]
              : definition.controls.filter((c) => c.type === "spans").map((c) => String(c.name));
          return (
            <label class="sb-input" key={option}>
              <span>{label}</span>
              <select
                value={typeof value === "string" ? value : ""}
                aria-label={aria}
                onChange={(e) => change({ [option]: parseOption("text", (e.currentTarget as HTMLSelectElement).value) })}
              >
                <option value="">{kind === "level" ? "default (ordinal)" : "—"}</option>
                {choices.map((choice) => (
                  <option key={choice} value={choice}>
                    {choice}
                  </option>
                ))}
              </select>
            </label>
          );
        }
        const shown = Array.isArray(value) ? value.join(", ") : value === undefined ? "" : String(value);
        return (
          <label class="sb-input" key={option}>
            <span>{label}</span>
            <input
              type="text"
              inputMode={kind === "number" ? "decimal" : undefined}
              value={shown}
              placeholder={hint ?? "default"}
              aria-label={aria}
              onInput={(e) => change({ [option]: parseOption(kind, (e.currentTarget as HTMLInputElement).value) })}
            />
          </label>
        );
      })}
      {earlier.length > 0 && (
        <div class="sb-row sb-showif">
          <label class="sb-input">
            <span>Show only when</span>
            <select
              value={showIf?.control ?? ""}
              aria-label={`${name}: show only when control`}
              onChange={(e) => change({ show_if: showIfFrom((e.currentTarget as HTMLSelectElement).value, answers) })}
            >
              <option value="">always shown</option>
              {earlier.map((other) => (
                <option key={other} value={other}>
                  {other}
                </option>
              ))}
            </select>
          </label>
          {showIf !== undefined && (
            <label class="sb-input sb-input--grow">
              <span>has the answer (several: comma-separated)</span>
              <input
                type="text"
                value={answers}
                aria-label={`${name}: show only when answer`}
                onInput={(e) => change({ show_if: showIfFrom(showIf.control, (e.currentTarget as HTMLInputElement).value) })}
              />
            </label>
          )}
        </div>
      )}
    </div>
  );
}
