/**
 * The item and its controls, as every page shows them: the fields on the left (field views, with
 * the drawing controls they host), one card per visible control on the right (its panel). Used by
 * the labeling page and the review page.
 */
import type { ComponentChildren } from "preact";

import type { Control, LabelingContext } from "../contract";
import { controlHeading } from "../core/labeling-session";
import { controlToolFor, fieldViewFor } from "../registry";

const TYPE_TITLES: Record<string, string> = {
  single_choice: "Choose one",
  multiple_choice: "Choose any",
  taxonomy: "Category",
  rating: "Rating",
  text: "Free text",
  ranking: "Rank, best first",
  pairwise: "Which is better?",
  spans: "Mark spans",
  relations: "Relations",
  chat_turn_labels: "Label turns",
};

export { controlHeading };

export interface WorkspaceProps {
  ctx: LabelingContext;
  /** Issues per control name (server or client checks). */
  problems?: Record<string, string[]>;
  /** Extra content under each control card (review: the others' answers). */
  below?(control: Control): ComponentChildren;
  /** Controls marked as "differs" (review). */
  marked?: ReadonlySet<string>;
}

export function Workspace({ ctx, problems = {}, below, marked }: WorkspaceProps) {
  const { definition, item } = ctx;
  const visibleControls = definition.controls.filter((c) => ctx.visible(c.name));
  return (
    <div class="lb-work">
      <section class="lb-fields" aria-label="Item">
        {definition.fields.map((field) => {
          const view = fieldViewFor(field.type);
          const value = item.data[field.source ?? field.name];
          const hosted = visibleControls.filter((c) => c.field === field.name && view?.hosts.includes(c.type));
          return (
            <article class="lb-fieldcard" key={field.name} aria-labelledby={`field-${field.name}`}>
              <h2 class="lb-fieldcard__title" id={`field-${field.name}`}>
                {field.title || field.name}
              </h2>
              {view ? (
                <view.View field={field} value={value} controls={hosted} ctx={ctx} />
              ) : (
                <p class="lb-muted">This browser build cannot show “{field.type}” fields.</p>
              )}
            </article>
          );
        })}
      </section>
      <section class="lb-controls" aria-label="Answers">
        {visibleControls.map((control, index) => {
          const tool = controlToolFor(control.type);
          const field = definition.fields.find((f) => f.name === control.field) ?? { name: control.field, type: "text" };
          const value = item.data[field.source ?? field.name];
          const active = ctx.activeControl === control.name;
          const hostedBy = fieldViewFor(field.type)?.hosts.includes(control.type);
          const issues = problems[control.name] ?? [];
          return (
            <section
              key={control.name}
              class={`lb-control${active ? " lb-control--active" : ""}${marked?.has(control.name) ? " lb-control--differs" : ""}${issues.length ? " lb-control--invalid" : ""}`}
              data-control={control.name}
              aria-labelledby={`control-${control.name}`}
              onFocusIn={() => !active && ctx.setActiveControl(control.name)}
              onPointerDown={() => !active && ctx.setActiveControl(control.name)}
            >
              <header class="lb-control__head">
                <span class="lb-control__index" aria-hidden="true">
                  {index + 1}
                </span>
                <h3 id={`control-${control.name}`} class="lb-control__title">
                  {controlHeading(control)}
                  {control.required && (
                    <span class="lb-required" title="Required">
                      {" "}*<span class="sr-only"> (required)</span>
                    </span>
                  )}
                </h3>
                <span class="lb-control__type">{TYPE_TITLES[control.type] ?? control.type}</span>
                {ctx.predicted.has(control.name) && (
                  <span class="lb-badge lb-badge--predicted" title="Filled in by a model; check it, edit it if needed">
                    pre-annotated
                  </span>
                )}
                {marked?.has(control.name) && <span class="lb-badge lb-badge--warn">differs</span>}
              </header>
              {typeof control.description === "string" && control.description && <p class="lb-control__desc">{control.description}</p>}
              {tool?.Panel ? (
                <tool.Panel control={control} field={field} value={value} ctx={ctx} />
              ) : tool || hostedBy ? (
                <p class="lb-hint">Label it in the {field.title || field.name} view.</p>
              ) : (
                <p class="lb-muted">This browser build has no tool for “{control.type}” controls.</p>
              )}
              {issues.length > 0 && (
                <ul class="lb-problems" role="alert">
                  {issues.map((m, i) => (
                    <li key={i}>{m}</li>
                  ))}
                </ul>
              )}
              {below?.(control)}
            </section>
          );
        })}
      </section>
    </div>
  );
}
