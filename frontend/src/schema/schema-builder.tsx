import { useState } from "preact/hooks";

import {
  COLOR_PATTERN,
  addControl,
  addField,
  addLabel,
  controlTitle,
  freeName,
  labelListKey,
  labelsOf,
  moveControl,
  removeControl,
  removeField,
  removeLabel,
  updateControl,
  updateField,
  updateLabel,
  type ControlType,
  type Definition,
  type Issue,
} from "./schema-definition";

/**
 * The form view of a definition: fields, controls and their labels as inputs. Every change is
 * handed to `onChange` as a whole new definition; the editor prints it back as JSON or YAML, so the
 * text and the form never disagree.
 */
export interface SchemaBuilderProps {
  definition: Definition;
  types: readonly ControlType[];
  fieldTypes: readonly string[];
  /** Problems to mark on the inputs they are about (by path, e.g. `controls[0].labels[2].value`). */
  issues?: readonly Issue[];
  onChange(definition: Definition): void;
}

/** `aria-invalid` for the input at `path`, with the problem as its title. */
type Mark = (path: string) => { "aria-invalid"?: true; title?: string };

function marker(issues: readonly Issue[]): Mark {
  const byPath = new Map<string, string>();
  for (const issue of issues) if (!byPath.has(issue.path)) byPath.set(issue.path, issue.message);
  return (path) => {
    const message = byPath.get(path);
    return message === undefined ? {} : { "aria-invalid": true, title: message };
  };
}

const inputValue = (event: Event): string => (event.currentTarget as HTMLInputElement).value;

export function SchemaBuilder({ definition, types, fieldTypes, issues = [], onChange }: SchemaBuilderProps) {
  const { fields, controls } = definition;
  const mark = marker(issues);
  return (
    <div class="sb">
      <fieldset class="sb-section">
        <legend>
          Item fields <span class="sb-count">{fields.length}</span>
        </legend>
        <p class="sb-hint">What the labeling view shows from each item's data.</p>
        {fields.map((field, i) => (
          <div class="sb-row sb-row--field" key={i}>
            <label class="sb-input sb-input--grow">
              <span>Name</span>
              <input
                type="text"
                value={String(field.name ?? "")}
                spellcheck={false}
                aria-label={`Field ${i + 1}: name`}
                {...mark(`fields[${i}].name`)}
                onInput={(e) => onChange(updateField(definition, i, { name: inputValue(e) }))}
              />
            </label>
            <label class="sb-input">
              <span>Type</span>
              <select
                value={String(field.type ?? "")}
                aria-label={`Field ${i + 1}: type`}
                onChange={(e) => onChange(updateField(definition, i, { type: inputValue(e) }))}
              >
                {!fieldTypes.includes(String(field.type)) && (
                  <option value={String(field.type ?? "")}>{String(field.type ?? "—")}</option>
                )}
                {fieldTypes.map((type) => (
                  <option key={type} value={type}>
                    {type}
                  </option>
                ))}
              </select>
            </label>
            <label class="sb-input sb-input--grow">
              <span>Data key</span>
              <input
                type="text"
                value={String(field.source ?? "")}
                placeholder={String(field.name ?? "")}
                spellcheck={false}
                aria-label={`Field ${i + 1}: data key`}
                onInput={(e) => onChange(updateField(definition, i, { source: inputValue(e) }))}
              />
            </label>
            <button
              type="button"
              class="sb-icon"
              title="Remove field"
              aria-label={`Remove field ${String(field.name ?? i + 1)}`}
              onClick={() => onChange(removeField(definition, i))}
            >
              ×
            </button>
          </div>
        ))}
        <button
          type="button"
          class="button button--ghost button--small"
          onClick={() =>
            onChange(
              addField(definition, {
                name: freeName(
                  "field",
                  fields.map((f) => f.name),
                ),
                type: "text",
              }),
            )
          }
        >
          + Add field
        </button>
      </fieldset>

      <fieldset class="sb-section">
        <legend>
          Controls <span class="sb-count">{controls.length}</span>
        </legend>
        <p class="sb-hint">
          What annotators answer, in order. A control may be shown only when an earlier one has a given answer (show_if,
          in the JSON or YAML).
        </p>
        {controls.map((_control, i) => (
          <ControlEditor key={i} index={i} definition={definition} types={types} mark={mark} onChange={onChange} />
        ))}
        <AddControl definition={definition} types={types} onChange={onChange} />
      </fieldset>
    </div>
  );
}

interface ControlEditorProps {
  index: number;
  definition: Definition;
  types: readonly ControlType[];
  mark: Mark;
  onChange(definition: Definition): void;
}

function ControlEditor({ index, definition, types, mark, onChange }: ControlEditorProps) {
  const control = definition.controls[index];
  if (control === undefined) return null;
  const name = String(control.name ?? "");
  const type = types.find((t) => t.type === control.type);
  const key = labelListKey(control.type, type?.options);
  const labels = key === null ? [] : labelsOf(control, key);
  const what = key === "keypoints" ? "keypoint" : key === "choices" ? "choice" : "label";
  const change = (patch: Record<string, unknown>) => onChange(updateControl(definition, index, patch, types));
  return (
    <div class="sb-control" data-control={name}>
      <div class="sb-control__head">
        <span class="sb-control__number">{index + 1}</span>
        <strong class="sb-control__name">{name || "(no name)"}</strong>
        <span class="sb-control__type">{controlTitle(String(control.type))}</span>
        <span class="sb-control__tools">
          <button
            type="button"
            class="sb-icon"
            aria-label={`Move ${name} up`}
            title="Move up"
            disabled={index === 0}
            onClick={() => onChange(moveControl(definition, index, -1))}
          >
            ↑
          </button>
          <button
            type="button"
            class="sb-icon"
            aria-label={`Move ${name} down`}
            title="Move down"
            disabled={index === definition.controls.length - 1}
            onClick={() => onChange(moveControl(definition, index, 1))}
          >
            ↓
          </button>
          <button
            type="button"
            class="sb-icon sb-icon--danger"
            aria-label={`Remove control ${name}`}
            title="Remove control"
            onClick={() => onChange(removeControl(definition, index))}
          >
            ×
          </button>
        </span>
      </div>
      <div class="sb-row">
        <label class="sb-input">
          <span>Type</span>
          <select
            value={String(control.type ?? "")}
            aria-label={`${name}: type`}
            onChange={(e) => change({ type: inputValue(e) })}
          >
            {type === undefined && <option value={String(control.type ?? "")}>{String(control.type ?? "—")}</option>}
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {controlTitle(t.type)}
              </option>
            ))}
          </select>
        </label>
        <label class="sb-input sb-input--grow">
          <span>Name</span>
          <input
            type="text"
            value={name}
            spellcheck={false}
            aria-label={`${name}: name`}
            {...mark(`controls[${index}].name`)}
            onInput={(e) => change({ name: inputValue(e) })}
          />
        </label>
        <label class="sb-input">
          <span>Field</span>
          <FieldSelect
            definition={definition}
            type={type}
            value={String(control.field ?? "")}
            label={`${name}: field`}
            onChange={(field) => change({ field })}
          />
        </label>
        <label class="sb-check">
          <input
            type="checkbox"
            checked={control.required === true}
            onChange={(e) => change({ required: (e.currentTarget as HTMLInputElement).checked })}
          />
          Required
        </label>
      </div>
      <label class="sb-input sb-input--wide">
        <span>
          Title shown to annotators <span class="sb-optional">optional</span>
        </span>
        <input
          type="text"
          value={typeof control.title === "string" ? control.title : ""}
          placeholder={name}
          aria-label={`${name}: title`}
          onInput={(e) => change({ title: inputValue(e) || undefined })}
        />
      </label>
      {key !== null && (
        <div class="sb-labels">
          <table class="sb-labels__table">
            <thead>
              <tr>
                <th scope="col">
                  {what === "label" ? "Label" : what === "keypoint" ? "Keypoint" : "Top-level choice"}
                </th>
                {key !== "choices" && <th scope="col">Hotkey</th>}
                {key !== "choices" && <th scope="col">Colour</th>}
                <th scope="col">
                  <span class="sr-only">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {labels.map((label, li) => (
                <tr key={li}>
                  <td>
                    <input
                      type="text"
                      value={String(label.value ?? "")}
                      aria-label={`${name} ${what} ${li + 1}: value`}
                      {...mark(`controls[${index}].${key}[${li}].value`)}
                      onInput={(e) => onChange(updateLabel(definition, index, key, li, { value: inputValue(e) }))}
                    />
                  </td>
                  {key !== "choices" && (
                    <td>
                      <input
                        type="text"
                        class="sb-hotkey"
                        maxLength={1}
                        value={String(label.hotkey ?? "")}
                        aria-label={`${name} ${what} ${li + 1}: hotkey`}
                        {...mark(`controls[${index}].${key}[${li}].hotkey`)}
                        onInput={(e) => onChange(updateLabel(definition, index, key, li, { hotkey: inputValue(e) }))}
                      />
                    </td>
                  )}
                  {key !== "choices" && (
                    <td class="sb-color">
                      <input
                        type="color"
                        value={colorForPicker(label.color)}
                        aria-label={`${name} ${what} ${li + 1}: pick colour`}
                        onInput={(e) => onChange(updateLabel(definition, index, key, li, { color: inputValue(e) }))}
                      />
                      <input
                        type="text"
                        class="sb-color__text"
                        value={String(label.color ?? "")}
                        placeholder="#rrggbb"
                        spellcheck={false}
                        aria-label={`${name} ${what} ${li + 1}: colour`}
                        {...mark(`controls[${index}].${key}[${li}].color`)}
                        onInput={(e) => onChange(updateLabel(definition, index, key, li, { color: inputValue(e) }))}
                      />
                    </td>
                  )}
                  <td>
                    <button
                      type="button"
                      class="sb-icon"
                      aria-label={`Remove ${what} ${String(label.value ?? li + 1)}`}
                      title={`Remove ${what}`}
                      onClick={() => onChange(removeLabel(definition, index, key, li))}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            type="button"
            class="button button--ghost button--small"
            onClick={() => onChange(addLabel(definition, index, key))}
          >
            + Add {what}
          </button>
        </div>
      )}
    </div>
  );
}

const colorForPicker = (color: unknown): string => {
  if (typeof color !== "string" || !COLOR_PATTERN.test(color)) return "#94a3b8";
  return color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join("")}` : color.toLowerCase();
};

function FieldSelect({
  definition,
  type,
  value,
  label,
  onChange,
}: {
  definition: Definition;
  type?: ControlType;
  value: string;
  label: string;
  onChange(field: string): void;
}) {
  const names = definition.fields.map((f) => String(f.name ?? ""));
  return (
    <select value={value} aria-label={label} onChange={(e) => onChange(inputValue(e))}>
      {!names.includes(value) && <option value={value}>{value || "—"}</option>}
      {definition.fields.map((field, i) => {
        const fits = type?.field_types == null || type.field_types.includes(String(field.type));
        return (
          <option key={i} value={String(field.name ?? "")} disabled={!fits}>
            {String(field.name ?? "")}
            {fits ? "" : ` (${String(field.type)}: not for this control)`}
          </option>
        );
      })}
    </select>
  );
}

function AddControl({
  definition,
  types,
  onChange,
}: {
  definition: Definition;
  types: readonly ControlType[];
  onChange(definition: Definition): void;
}) {
  const [typeName, setTypeName] = useState(types[0]?.type ?? "single_choice");
  const [name, setName] = useState("");
  const [field, setField] = useState("");
  const [required, setRequired] = useState(false);
  const type = types.find((t) => t.type === typeName);
  const fitting = definition.fields.filter(
    (f) => type?.field_types == null || type.field_types.includes(String(f.type)),
  );
  const chosenField = fitting.some((f) => f.name === field) ? field : String(fitting[0]?.name ?? "");
  const suggested = freeName(
    typeName,
    definition.controls.map((c) => c.name),
  );
  const add = () => {
    onChange(addControl(definition, { type: typeName, name: name.trim() || suggested, field: chosenField, required }));
    setName("");
  };
  return (
    <div class="sb-add" role="group" aria-labelledby="sb-add-title">
      <p class="sb-add__title" id="sb-add-title">
        Add a control
      </p>
      <div class="sb-row">
        <label class="sb-input">
          <span>Type</span>
          <select value={typeName} onChange={(e) => setTypeName(inputValue(e))} aria-label="New control: type">
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {controlTitle(t.type)}
              </option>
            ))}
          </select>
        </label>
        <label class="sb-input sb-input--grow">
          <span>Name</span>
          <input
            type="text"
            value={name}
            placeholder={suggested}
            spellcheck={false}
            aria-label="New control: name"
            onInput={(e) => setName(inputValue(e))}
          />
        </label>
        <label class="sb-input">
          <span>Field</span>
          <select
            value={chosenField}
            onChange={(e) => setField(inputValue(e))}
            aria-label="New control: field"
            disabled={fitting.length === 0}
          >
            {fitting.length === 0 && <option value="">no {type?.field_types?.join("/") ?? ""} field</option>}
            {fitting.map((f, i) => (
              <option key={i} value={String(f.name ?? "")}>
                {String(f.name ?? "")}
              </option>
            ))}
          </select>
        </label>
        <label class="sb-check">
          <input
            type="checkbox"
            checked={required}
            onChange={(e) => setRequired((e.currentTarget as HTMLInputElement).checked)}
          />
          Required
        </label>
        <button type="button" class="button button--small" onClick={add} disabled={fitting.length === 0}>
          Add control
        </button>
      </div>
      {fitting.length === 0 && (
        <p class="sb-hint">
          A {controlTitle(typeName).toLowerCase()} control answers a field of type {type?.field_types?.join(" or ")}:
          add such a field first.
        </p>
      )}
    </div>
  );
}
