import { describe, expect, it } from "vitest";

import {
  addControl,
  addLabel,
  convertText,
  defaultOptions,
  editable,
  jsonErrorOffset,
  moveControl,
  parseText,
  printValue,
  quickCheck,
  removeLabel,
  updateControl,
  updateField,
  updateLabel,
  type ControlType,
  type Definition,
} from "./schema-definition";
import { docsExamples } from "./schema-test-examples";

const TYPES: ControlType[] = [
  { type: "single_choice", field_types: null, options: ["labels"], required_options: ["labels"] },
  {
    type: "spans",
    field_types: ["rich_text", "text"],
    options: ["allow_overlap", "labels"],
    required_options: ["labels"],
  },
  {
    type: "rating",
    field_types: null,
    options: ["max", "max_label", "min", "min_label", "step"],
    required_options: ["max", "min"],
  },
  { type: "bbox", field_types: ["image"], options: ["labels"], required_options: ["labels"] },
  { type: "text", field_types: null, options: ["max_length", "min_length", "placeholder"], required_options: [] },
];
const FIELD_TYPES = ["text", "rich_text", "image", "audio", "video", "conversation", "candidates", "json"];

const sentiment = (): Definition => ({
  version: 1,
  fields: [{ name: "text", type: "text" }],
  controls: [
    {
      name: "sentiment",
      type: "single_choice",
      field: "text",
      labels: [{ value: "pos", hotkey: "1" }, { value: "neg" }],
    },
  ],
});

describe("parseText", () => {
  it("reads JSON and reports where a syntax error is", () => {
    expect(parseText('{"a": 1}', "json")).toEqual({ ok: true, value: { a: 1 } });

    const broken = parseText('{\n  "a": 1,\n}', "json");

    expect(broken.ok).toBe(false);
    if (!broken.ok) expect([broken.error.line, broken.error.column]).toEqual([3, 1]);
  });

  it.each([
    ['{"a":}', 1, 6],
    ['{"a" 1}', 1, 6],
    ["[1,]", 1, 4],
    ['{"a":"b\tc"}', 1, 8],
    ['{\n  "labels": [\n    {"value": "x"}\n  ]\n}\n]', 6, 1],
  ])("finds where %j stops being JSON, whatever the engine's wording", (text, line, column) => {
    const result = parseText(text, "json");

    expect(result.ok ? null : [result.error.line, result.error.column]).toEqual([line, column]);
  });

  it("scans deeply nested JSON without overflowing the stack", () => {
    expect(jsonErrorOffset(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toBeNull();
    expect(jsonErrorOffset(`${"[".repeat(100_000)}`)).toBe(100_000);
  });

  it("reads YAML and reports duplicate keys with their line", () => {
    expect(parseText("version: 1\nfields: []\n", "yaml")).toEqual({ ok: true, value: { version: 1, fields: [] } });

    const duplicate = parseText("a: 1\na: 2\n", "yaml");

    expect(duplicate.ok).toBe(false);
    if (!duplicate.ok) expect(duplicate.error.line).toBe(2);
  });

  it("treats an empty text as a problem, not as null", () => {
    expect(parseText("  \n", "yaml")).toEqual({
      ok: false,
      error: { message: "The definition is empty.", line: null, column: null },
    });
  });

  it("refuses a YAML alias bomb instead of expanding it", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? "a" : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join("\n");

    expect(parseText(bomb, "yaml").ok).toBe(false);
  });
});

describe("YAML <-> JSON", () => {
  it.each([...docsExamples().entries()])("round-trips the %s example without changing it", (_name, schema) => {
    const json = printValue(schema, "json");

    const yaml = convertText(json, "json", "yaml");
    expect(yaml.ok).toBe(true);
    if (!yaml.ok) return;
    const back = convertText(yaml.text, "yaml", "json");

    expect(back.ok).toBe(true);
    if (back.ok) expect(JSON.parse(back.text)).toEqual(schema);
  });

  it("keeps label values that look like other YAML types as strings", () => {
    const schema = {
      labels: [{ value: "yes" }, { value: "1" }, { value: "null" }, { value: "#fff" }, { value: "a: b" }],
    };

    const yaml = printValue(schema, "yaml");

    expect(parseText(yaml, "yaml")).toEqual({ ok: true, value: schema });
  });

  it("does not convert text that does not parse", () => {
    expect(convertText("{", "json", "yaml").ok).toBe(false);
  });
});

describe("quickCheck", () => {
  it("passes every docs example", () => {
    const types: ControlType[] = [
      ...new Set([...docsExamples().values()].flatMap((s) => s.controls.map((c) => c.type))),
    ].map((type) => ({
      type,
      field_types: null,
      options: [
        "labels",
        "choices",
        "multiple",
        "keypoints",
        "skeleton",
        "allow_overlap",
        "spans",
        "directed",
        "min",
        "max",
        "step",
        "min_label",
        "max_label",
        "strength",
        "allow_tie",
        "min_length",
        "max_length",
        "placeholder",
        "per_turn_roles",
      ],
      required_options: [],
    }));
    for (const [name, schema] of docsExamples())
      expect([name, quickCheck(schema, types, FIELD_TYPES)]).toEqual([name, []]);
  });

  it("finds duplicate labels, markup, hotkeys, colours and dangling references", () => {
    const definition = sentiment();
    definition.controls[0]!.labels = [
      { value: "pos", hotkey: "1" },
      { value: "pos", hotkey: "1" },
      { value: "<img src=x onerror=alert(1)>", color: "red" },
    ];
    definition.controls.push({
      name: "later",
      type: "text",
      field: "nope",
      show_if: { control: "missing", equals: "x" },
    });

    expect(quickCheck(definition, TYPES, FIELD_TYPES)).toEqual([
      { path: "controls[0].labels[1].value", message: 'The label "pos" is listed twice.' },
      { path: "controls[0].labels[1].hotkey", message: `The hotkey '1' is already used by "pos".` },
      {
        path: "controls[0].labels[2].value",
        message: `The label "<img src=x onerror=alert(1)>" contains '<' or '>'; markup is not allowed.`,
      },
      { path: "controls[0].labels[2].color", message: "A colour is #rgb or #rrggbb." },
      { path: "controls[1].field", message: 'No field is called "nope".' },
      { path: "controls[1].show_if.control", message: "show_if must name a control that comes earlier in the list." },
    ]);
  });

  it("says a list is not a schema", () => {
    expect(quickCheck([1, 2], TYPES, FIELD_TYPES)).toEqual([
      { path: "", message: "A label schema must be a JSON object." },
    ]);
  });

  it("checks field types against the control", () => {
    const definition = sentiment();
    definition.controls.push({ name: "boxes", type: "bbox", field: "text", labels: [{ value: "car" }] });

    expect(quickCheck(definition, TYPES, FIELD_TYPES)).toEqual([
      { path: "controls[1].field", message: "A bbox control cannot answer a text field." },
    ]);
  });
});

describe("builder edits", () => {
  it("adds a control with the options its type requires", () => {
    const next = addControl(sentiment(), { type: "rating", name: "quality", field: "text", required: true });

    expect(next.controls[1]).toEqual({
      name: "quality",
      type: "rating",
      field: "text",
      required: true,
      min: 1,
      max: 5,
    });
    expect(quickCheck(next, TYPES, FIELD_TYPES)).toEqual([]);
  });

  it("edits, adds and removes labels without touching the original", () => {
    const original = sentiment();

    let next = updateLabel(original, 0, "labels", 1, { value: "negative", hotkey: "2", color: "#c62828" });
    next = addLabel(next, 0, "labels");
    next = updateLabel(next, 0, "labels", 0, { hotkey: "" });
    next = removeLabel(next, 0, "labels", 2);
    next = addLabel(next, 0, "labels");

    expect(next.controls[0]!.labels).toEqual([
      { value: "pos" },
      { value: "negative", hotkey: "2", color: "#c62828" },
      { value: "label" },
    ]);
    expect(original.controls[0]!.labels).toEqual([{ value: "pos", hotkey: "1" }, { value: "neg" }]);
  });

  it("renames follow into show_if and the control's field", () => {
    let definition = addControl(sentiment(), { type: "text", name: "why", field: "text", required: false });
    definition.controls[1]!.show_if = { control: "sentiment", equals: "neg" };

    definition = updateControl(definition, 0, { name: "tone" }, TYPES);
    definition = updateField(definition, 0, { name: "body" });

    expect(definition.controls.map((c) => [c.name, c.field, c.show_if?.control])).toEqual([
      ["tone", "body", undefined],
      ["why", "body", "tone"],
    ]);
  });

  it("a new type keeps shared options and drops the others", () => {
    const definition = updateControl(sentiment(), 0, { type: "spans" }, TYPES);

    expect(definition.controls[0]).toEqual({
      name: "sentiment",
      type: "spans",
      field: "text",
      labels: [{ value: "pos", hotkey: "1" }, { value: "neg" }],
    });

    const rating = updateControl(definition, 0, { type: "rating" }, TYPES);

    expect(rating.controls[0]).toEqual({ name: "sentiment", type: "rating", field: "text", min: 1, max: 5 });
  });

  it("moves controls and unsets required", () => {
    let definition = addControl(sentiment(), { type: "text", name: "note", field: "text", required: true });

    definition = moveControl(definition, 1, -1);
    definition = updateControl(definition, 0, { required: false }, TYPES);

    expect(definition.controls.map((c) => [c.name, c.required])).toEqual([
      ["note", undefined],
      ["sentiment", undefined],
    ]);
    expect(moveControl(definition, 0, -1)).toBe(definition);
  });

  it("gives every control type valid defaults", () => {
    for (const [name, schema] of docsExamples()) {
      if (name.startsWith("use_case")) continue;
      expect([
        name,
        Object.keys(defaultOptions(name, schema)).length > 0 ||
          ["ranking", "pairwise", "text", "transcription"].includes(name),
      ]).toEqual([name, true]);
    }
  });

  it("editable() only accepts objects whose lists are lists", () => {
    expect(editable({ version: 1 })).toEqual({ version: 1, fields: [], controls: [] });
    expect(editable({ fields: {} })).toBeNull();
    expect(editable("x")).toBeNull();
  });
});
