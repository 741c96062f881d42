import type { ComponentChildren } from "preact";

import {
  COLOR_PATTERN,
  controlTitle,
  isRecord,
  issuesOfControl,
  labelsOf,
  looseDefinition,
  type Control,
  type Field,
  type Issue,
  type Label,
} from "./schema-definition";
import "./schema-editor.css";

/**
 * What annotators will see, drawn from a definition of any shape as the author types: one card per
 * control with a read-only mock of its widget, its field, whether it is required and when it is
 * shown. Every string from the definition is rendered as text (JSX escapes it); colours are used
 * only when they are #rgb/#rrggbb.
 */
export interface SchemaPreviewProps {
  definition: unknown;
  /** Problems to show next to the control they belong to (paths like `controls[2].labels[0].value`). */
  issues?: readonly Issue[];
  /** The definition shown is the last one that parsed; the text has changed since. */
  stale?: boolean;
}

const MAX_CHIPS = 60; // a control may have 5,000 labels; the preview shows the first ones
const MAX_TREE_NODES = 200;

export function SchemaPreview({ definition, issues = [], stale = false }: SchemaPreviewProps) {
  const loose = looseDefinition(definition);
  if (loose === null) {
    return <p class="pv-empty">The preview appears when the definition is an object with fields and controls.</p>;
  }
  const fields = new Map(loose.fields.map((field) => [field.name, field]));
  const general = issues.filter((issue) => !issue.path.startsWith("controls["));
  return (
    <div class={`pv${stale ? " pv--stale" : ""}`} data-testid="schema-preview">
      {loose.fields.length > 0 && (
        <p class="pv-fields">
          <span class="pv-fields__label">Item fields</span>
          {loose.fields.map((field, i) => (
            <span class="pv-field" key={i}>
              {String(field.title ?? field.name ?? "?")}
              <span class="pv-field__type">{String(field.type ?? "?")}</span>
            </span>
          ))}
        </p>
      )}
      {general.length > 0 && <IssueList issues={general} />}
      {loose.controls.length === 0 ? (
        <p class="pv-empty">No controls yet. Add one to see it here.</p>
      ) : (
        <ol class="pv-controls">
          {loose.controls.map((control, i) => (
            <li key={i}>
              <ControlCard control={control} field={fields.get(control.field)} issues={issuesOfControl(issues, i)} />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function ControlCard({
  control,
  field,
  issues,
}: {
  control: Partial<Control>;
  field?: Partial<Field>;
  issues: Issue[];
}) {
  const name = typeof control.name === "string" ? control.name : "(no name)";
  const title = typeof control.title === "string" && control.title !== "" ? control.title : name;
  const type = typeof control.type === "string" ? control.type : "";
  return (
    <section
      class={`pv-control${issues.length > 0 ? " pv-control--invalid" : ""}`}
      data-control-type={type}
      aria-label={title}
    >
      <header class="pv-control__head">
        <h4 class="pv-control__title">
          {title}
          {control.required === true && (
            <span class="pv-required" title="Required">
              <span aria-hidden="true">*</span>
              <span class="sr-only"> (required)</span>
            </span>
          )}
        </h4>
        <span class="pv-type">{controlTitle(type)}</span>
      </header>
      <p class="pv-meta">
        <code>{name}</code> on field <code>{String(control.field ?? "?")}</code>
        {field?.type !== undefined && <span class="pv-muted"> ({String(field.type)})</span>}
        {control.required === true ? (
          <span class="pv-badge pv-badge--required">required</span>
        ) : (
          <span class="pv-badge">optional</span>
        )}
      </p>
      {control.show_if !== undefined && <ShowIfNote showIf={control.show_if} />}
      {typeof control.description === "string" && control.description !== "" && (
        <p class="pv-description">{control.description}</p>
      )}
      <div class="pv-widget">
        <Widget control={control} />
      </div>
      {issues.length > 0 && <IssueList issues={issues} />}
    </section>
  );
}

function ShowIfNote({ showIf }: { showIf: unknown }) {
  if (!isRecord(showIf)) return <p class="pv-showif">Shown only under a condition (show_if is not an object).</p>;
  const target = String(showIf.control ?? "?");
  const values = "in" in showIf && Array.isArray(showIf.in) ? showIf.in : [showIf.equals];
  return (
    <p class="pv-showif">
      <span aria-hidden="true">↳ </span>Shown when <code>{target}</code> {values.length > 1 ? "is one of " : "is "}
      {values.map((value, i) => (
        <span key={i}>
          {i > 0 && ", "}
          <strong class="pv-value">{typeof value === "string" ? value : JSON.stringify(value)}</strong>
        </span>
      ))}
    </p>
  );
}

function IssueList({ issues }: { issues: readonly Issue[] }) {
  return (
    <ul class="pv-issues" role="list">
      {issues.map((issue, i) => (
        <li key={i}>
          {issue.path !== "" && <code>{issue.path}</code>} {issue.message}
        </li>
      ))}
    </ul>
  );
}

// --- Widgets ---------------------------------------------------------------------------------------

function Widget({ control }: { control: Partial<Control> }) {
  const labels = labelsOf(control, "labels");
  switch (control.type) {
    case "single_choice":
      return <Choices labels={labels} kind="radio" />;
    case "multiple_choice":
      return <Choices labels={labels} kind="checkbox" />;
    case "image_class":
      return (
        <MediaFrame kind="image">
          <Choices labels={labels} kind={control.multiple === true ? "checkbox" : "radio"} />
        </MediaFrame>
      );
    case "taxonomy":
      return <Tree nodes={labelsOf(control, "choices")} multiple={control.multiple === true} />;
    case "rating":
      return <Rating control={control} />;
    case "spans":
      return (
        <>
          <p class="pv-sample">
            Select text in the item, then pick a label{control.allow_overlap === true ? " (spans may overlap)" : ""}.
          </p>
          <Chips labels={labels} />
        </>
      );
    case "relations":
      return (
        <>
          <p class="pv-sample">
            Link two spans of <code>{String(control.spans ?? "?")}</code>{" "}
            {control.directed === true ? "(from → to)" : "(either way)"}.
          </p>
          <Chips labels={labels} />
        </>
      );
    case "bbox":
    case "polygon":
      return (
        <MediaFrame kind="image" shape={control.type}>
          <Chips labels={labels} />
        </MediaFrame>
      );
    case "keypoints":
      return (
        <MediaFrame kind="image" shape="keypoints">
          <Chips labels={labelsOf(control, "keypoints")} />
          {labels.length > 0 && (
            <p class="pv-sub">
              Instance class: <Chips labels={labels} inline />
            </p>
          )}
        </MediaFrame>
      );
    case "audio_segments":
    case "video_segments":
    case "video_bbox":
      return (
        <MediaFrame kind={control.type === "audio_segments" ? "audio" : "video"}>
          <Chips labels={labels} />
        </MediaFrame>
      );
    case "transcription":
      return (
        <MediaFrame kind="audio">
          <FreeText control={control} />
        </MediaFrame>
      );
    case "text":
      return <FreeText control={control} />;
    case "pairwise":
      return <Pairwise control={control} />;
    case "ranking":
      return <Ranking />;
    case "chat_turn_labels":
      return <ChatTurns control={control} labels={labels} />;
    default:
      return <p class="pv-unknown">Unknown control type {JSON.stringify(control.type ?? null)}: nothing to show.</p>;
  }
}

const safeColor = (color: unknown): string | undefined =>
  typeof color === "string" && COLOR_PATTERN.test(color) ? color : undefined;

function Hotkey({ label }: { label: Partial<Label> }) {
  return typeof label.hotkey === "string" && label.hotkey !== "" ? <kbd class="pv-kbd">{label.hotkey}</kbd> : null;
}

function More({ total }: { total: number }) {
  return total > MAX_CHIPS ? <span class="pv-more">+{(total - MAX_CHIPS).toLocaleString("en-US")} more</span> : null;
}

function Choices({ labels, kind }: { labels: Partial<Label>[]; kind: "radio" | "checkbox" }) {
  if (labels.length === 0) return <p class="pv-missing">No labels yet.</p>;
  return (
    <ul class={`pv-choices pv-choices--${kind}`}>
      {labels.slice(0, MAX_CHIPS).map((label, i) => (
        <li key={i} class="pv-choice">
          <span class={`pv-mark pv-mark--${kind}`} aria-hidden="true" style={{ borderColor: safeColor(label.color) }} />
          <span class="pv-choice__text">{String(label.value ?? "")}</span>
          <Hotkey label={label} />
        </li>
      ))}
      <More total={labels.length} />
    </ul>
  );
}

function Chips({ labels, inline = false }: { labels: Partial<Label>[]; inline?: boolean }) {
  if (labels.length === 0) return <p class="pv-missing">No labels yet.</p>;
  const Tag = inline ? "span" : "div";
  return (
    <Tag class="pv-chips">
      {labels.slice(0, MAX_CHIPS).map((label, i) => {
        const color = safeColor(label.color);
        return (
          <span
            key={i}
            class="pv-chip"
            style={color ? { "--pv-chip": color } : undefined}
            title={typeof label.description === "string" ? label.description : undefined}
          >
            <span class="pv-chip__dot" aria-hidden="true" />
            <span class="pv-chip__text">{String(label.value ?? "")}</span>
            <Hotkey label={label} />
          </span>
        );
      })}
      <More total={labels.length} />
    </Tag>
  );
}

function Tree({ nodes, multiple }: { nodes: Partial<Label>[]; multiple: boolean }) {
  if (nodes.length === 0) return <p class="pv-missing">No choices yet.</p>;
  let budget = MAX_TREE_NODES;
  const branch = (list: unknown[], depth: number): ComponentChildren => (
    <ul class="pv-tree" role={depth === 0 ? "tree" : "group"}>
      {list.filter(isRecord).map((node, i) => {
        if (budget <= 0) return null;
        budget -= 1;
        const children = Array.isArray(node.children) && depth < 6 ? node.children : [];
        return (
          <li key={i} role="treeitem" aria-expanded={children.length > 0 ? true : undefined}>
            <span class="pv-tree__node">
              <span class={`pv-mark pv-mark--${multiple ? "checkbox" : "radio"}`} aria-hidden="true" />
              {children.length > 0 && (
                <span class="pv-tree__caret" aria-hidden="true">
                  ▾
                </span>
              )}
              {String(node.value ?? "")}
            </span>
            {children.length > 0 && branch(children, depth + 1)}
          </li>
        );
      })}
    </ul>
  );
  return <>{branch(nodes, 0)}</>;
}

function Rating({ control }: { control: Partial<Control> }) {
  const min = typeof control.min === "number" ? control.min : null;
  const max = typeof control.max === "number" ? control.max : null;
  const step = typeof control.step === "number" && control.step > 0 ? control.step : 1;
  if (min === null || max === null || min >= max) return <p class="pv-missing">Set min below max to see the scale.</p>;
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  const ends = (
    <span class="pv-scale__ends">
      <span>{typeof control.min_label === "string" ? control.min_label : String(min)}</span>
      <span>{typeof control.max_label === "string" ? control.max_label : String(max)}</span>
    </span>
  );
  if (min === 1 && step === 1 && max <= 10) {
    return (
      <div class="pv-scale">
        <span class="pv-stars" role="img" aria-label={`${min} to ${max} stars`}>
          {Array.from({ length: count }, (_, i) => (
            <span key={i} class="pv-star" aria-hidden="true">
              ★
            </span>
          ))}
        </span>
        {ends}
      </div>
    );
  }
  if (count <= 11) {
    const decimals = Math.min(6, (String(step).split(".")[1] ?? "").length);
    return (
      <div class="pv-scale">
        <span class="pv-steps">
          {Array.from({ length: count }, (_, i) => (
            <span key={i} class="pv-step">
              {(min + i * step).toFixed(decimals)}
            </span>
          ))}
        </span>
        {ends}
      </div>
    );
  }
  return (
    <div class="pv-scale">
      <span class="pv-slider" aria-hidden="true">
        <span class="pv-slider__thumb" />
      </span>
      {ends}
      <span class="pv-muted pv-sub">
        {count.toLocaleString("en-US")} steps of {step}
      </span>
    </div>
  );
}

function FreeText({ control }: { control: Partial<Control> }) {
  const min = typeof control.min_length === "number" ? control.min_length : 0;
  const max = typeof control.max_length === "number" ? control.max_length : null;
  return (
    <>
      <textarea
        class="pv-textarea"
        readOnly
        rows={3}
        tabIndex={-1}
        aria-label="Answer (preview)"
        placeholder={typeof control.placeholder === "string" ? control.placeholder : "The annotator writes here"}
      />
      {(min > 0 || max !== null) && (
        <p class="pv-sub pv-muted">
          {min > 0 && `At least ${min.toLocaleString("en-US")} characters`}
          {min > 0 && max !== null && " · "}
          {max !== null && `at most ${max.toLocaleString("en-US")}`}
        </p>
      )}
    </>
  );
}

function Pairwise({ control }: { control: Partial<Control> }) {
  return (
    <>
      <div class="pv-pair">
        <span class="pv-option">A is better</span>
        {control.allow_tie !== false && <span class="pv-option pv-option--tie">Tie</span>}
        <span class="pv-option">B is better</span>
      </div>
      {control.strength === true && (
        <div class="pv-pair pv-pair--strength" aria-label="Strength">
          <span class="pv-step">slightly</span>
          <span class="pv-step">clearly</span>
          <span class="pv-step">much</span>
        </div>
      )}
    </>
  );
}

function Ranking() {
  return (
    <ol class="pv-ranking">
      {["First candidate", "Second candidate", "Third candidate"].map((text) => (
        <li key={text} class="pv-rank">
          <span class="pv-rank__handle" aria-hidden="true">
            ⋮⋮
          </span>
          {text}
        </li>
      ))}
      <li class="pv-sub pv-muted">Drag to order, best first.</li>
    </ol>
  );
}

function ChatTurns({ control, labels }: { control: Partial<Control>; labels: Partial<Label>[] }) {
  const roles = Array.isArray(control.per_turn_roles) ? control.per_turn_roles.map(String) : null;
  const turns = [
    { role: "user", text: "Can you summarise this article?" },
    { role: "assistant", text: "Sure: it argues that…" },
  ];
  return (
    <ol class="pv-chat">
      {turns.map((turn) => (
        <li key={turn.role} class={`pv-turn pv-turn--${turn.role}`}>
          <span class="pv-turn__role">{turn.role}</span>
          <span class="pv-turn__text">{turn.text}</span>
          {roles === null || roles.includes(turn.role) ? (
            <Chips labels={labels} />
          ) : (
            <span class="pv-muted pv-sub">not labelled</span>
          )}
        </li>
      ))}
    </ol>
  );
}

function MediaFrame({
  kind,
  shape,
  children,
}: {
  kind: "image" | "audio" | "video";
  shape?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="pv-media">
      <div class={`pv-media__canvas pv-media__canvas--${kind}`} aria-hidden="true">
        {kind === "image" && shape === "bbox" && <span class="pv-shape pv-shape--box" />}
        {kind === "image" && shape === "polygon" && (
          <svg class="pv-shape pv-shape--polygon" viewBox="0 0 100 60">
            <polygon points="20,45 38,12 70,18 80,48" />
          </svg>
        )}
        {kind === "image" && shape === "keypoints" && (
          <svg class="pv-shape pv-shape--points" viewBox="0 0 100 60">
            <polyline points="30,40 45,20 60,38 75,18" />
            <circle cx="30" cy="40" r="3" />
            <circle cx="45" cy="20" r="3" />
            <circle cx="60" cy="38" r="3" />
            <circle cx="75" cy="18" r="3" />
          </svg>
        )}
        {kind !== "image" && <span class="pv-wave" />}
        <span class="pv-media__kind">{kind}</span>
      </div>
      {children}
    </div>
  );
}
