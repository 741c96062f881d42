/**
 * The contract between the labeling page (shell, review page) and its tools. The shell owns the
 * state (answers, undo/redo, drafts, submit); tools render and edit one control's answer through
 * `ctx.setAnswer`, never by mutating anything.
 *
 * Two kinds of modules plug in through `registry.ts`:
 * - a **field view** renders one field of the item's data (text, rich_text, image, audio, video,
 *   conversation, candidates, json) and *hosts* the controls that draw on it (spans and relations
 *   inside text, boxes/polygons/keypoints on an image, segments on a waveform or a video timeline,
 *   per-turn labels on a conversation);
 * - a **control tool** is everything else a control needs: its panel (a choice list, a label picker
 *   for the hosted drawing tools, a rating, a free-text box), its hotkeys, and what "empty" means.
 *
 * Untrusted data (item data, label names, other annotators' answers) is only ever rendered through
 * JSX text or Konva text (escaped); rich text only through the sanitiser in the text tools. Never
 * `dangerouslySetInnerHTML` with anything that did not pass that sanitiser.
 */
import type { ComponentType } from "preact";
import type { Control, Definition, Field } from "../schema/schema-definition";

export type { Control, Definition, Field, Label } from "../schema/schema-definition";

/** One control's answer, in the shape docs/SCHEMA.md gives for its type. */
export type Answer = unknown;
/** An annotation result: {control name: answer}. */
export type Result = Record<string, Answer>;

/** What the server knows about the item's media file (pixels, seconds, frames). */
export interface MediaInfo {
  width?: number;
  height?: number;
  duration?: number;
  frame_count?: number;
}

export interface TaskItem {
  id: number;
  data: Record<string, unknown>;
  /** Permission-checked URL of the item's uploaded media file, when it has one. */
  media_url?: string | null;
  media?: MediaInfo;
}

/** A key binding; `key` is KeyboardEvent.key ("a", "Enter", "ArrowLeft", "?"), modifiers explicit. */
export interface Hotkey {
  key: string;
  ctrl?: boolean;
  shift?: boolean;
  alt?: boolean;
  /** Shown in the help overlay. */
  description: string;
  run(): void;
}

export interface SetAnswerOptions {
  /**
   * Steps with the same non-empty `coalesce` key that follow each other are merged into one undo
   * step (typing in a text box, dragging a box corner).
   */
  coalesce?: string;
}

/** Another annotator's answers, shown read-only (review page; `show_others` projects). */
export interface OtherAnnotation {
  /** Display name (or pseudonym) of the annotator. */
  annotator: string;
  /** A stable colour for this annotator, chosen by the shell. */
  color: string;
  result: Result;
}

/** What the shell gives every field view and control tool. */
export interface LabelingContext {
  definition: Definition;
  item: TaskItem;
  /** The current answers, by control name (drafts and predictions already merged in). */
  result: Result;
  /** Replace one control's answer; one undo step (see `coalesce`). Ignored when `readOnly`. */
  setAnswer(control: string, answer: Answer, options?: SetAnswerOptions): void;
  readOnly: boolean;
  /** The control that receives label hotkeys and pointer drawing; the shell keeps it valid. */
  activeControl: string | null;
  setActiveControl(name: string): void;
  /**
   * The label chosen for a drawing control (spans, bbox, polygon, keypoints, segments, relations),
   * by control name: the label picker sets it, the field view uses it for the next region.
   */
  activeLabel: Readonly<Record<string, string | undefined>>;
  setActiveLabel(control: string, label: string): void;
  /** Controls whose answer came from a model prediction and was not edited yet. */
  predicted: ReadonlySet<string>;
  /** Other annotations to draw beside/under this one (review: all annotations of the item). */
  others: readonly OtherAnnotation[];
  /** Controls that are shown (show_if evaluated on `result`); hidden ones are not rendered. */
  visible(control: string): boolean;
}

export interface FieldViewProps {
  field: Field;
  /** item.data[field.source ?? field.name]; may be anything: check before use. */
  value: unknown;
  /** The visible controls answering this field whose type the view hosts. */
  controls: readonly Control[];
  ctx: LabelingContext;
}

export interface ControlProps {
  control: Control;
  field: Field;
  value: unknown;
  ctx: LabelingContext;
}

export interface FieldView {
  /** Field types it renders (e.g. ["image"]). */
  types: readonly string[];
  /** Control types drawn inside this view (e.g. ["bbox", "polygon", "keypoints"]). */
  hosts: readonly string[];
  View: ComponentType<FieldViewProps>;
}

export interface ControlTool {
  type: string;
  /** The control's panel (choices, label picker, text box...); optional for purely hosted tools. */
  Panel?: ComponentType<ControlProps>;
  /** Hotkeys for this control; label hotkeys are unique across a schema, so they may be global. */
  hotkeys?(control: Control, ctx: LabelingContext): Hotkey[];
  /** `null`, "", [] and {} are empty by default (docs/SCHEMA.md); override when that differs. */
  isEmpty?(answer: Answer): boolean;
  /** Selected region editing: delete the selected region (Delete/Backspace) when the tool has one. */
  deleteSelected?(control: Control, ctx: LabelingContext): boolean;
}
