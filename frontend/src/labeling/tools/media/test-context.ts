/** A LabelingContext for tests: answers in a plain object, every setAnswer recorded. */
import type { Control, Definition, LabelingContext, OtherAnnotation, Result, SetAnswerOptions } from "../../contract";

export interface FakeContext extends LabelingContext {
  calls: { control: string; answer: unknown; options?: SetAnswerOptions }[];
}

export function fakeContext(controls: Control[], init: { result?: Result; readOnly?: boolean; others?: OtherAnnotation[]; fieldType?: string } = {}): FakeContext {
  const definition: Definition = { version: 1, fields: [{ name: "image", type: init.fieldType ?? "image" }], controls };
  const ctx: FakeContext = {
    definition,
    item: { id: 1, data: {}, media_url: "/media/1" },
    result: { ...(init.result ?? {}) },
    calls: [],
    readOnly: init.readOnly ?? false,
    activeControl: controls[0]?.name ?? null,
    activeLabel: {},
    predicted: new Set(),
    others: init.others ?? [],
    setAnswer(control, answer, options) {
      if (ctx.readOnly) return;
      ctx.calls.push({ control, answer, options });
      ctx.result = { ...ctx.result, [control]: answer };
    },
    setActiveControl(name) {
      ctx.activeControl = name;
    },
    setActiveLabel(control, label) {
      ctx.activeLabel = { ...ctx.activeLabel, [control]: label };
    },
    visible: () => true,
  };
  return ctx;
}
