/**
 * Field views and control tools by type. Each tool family registers itself once
 * (`tools/text/index.ts`, `tools/media/index.ts`); the pages call `registerAllTools()`.
 */
import type { ControlTool, FieldView } from "./contract";

const fieldViews = new Map<string, FieldView>();
const controlTools = new Map<string, ControlTool>();

export function registerFieldView(view: FieldView): void {
  for (const type of view.types) fieldViews.set(type, view);
}

export function registerControlTool(tool: ControlTool): void {
  controlTools.set(tool.type, tool);
}

export const fieldViewFor = (fieldType: string): FieldView | undefined => fieldViews.get(fieldType);
export const controlToolFor = (controlType: string): ControlTool | undefined => controlTools.get(controlType);
export const registeredControlTypes = (): string[] => [...controlTools.keys()].sort();
export const registeredFieldTypes = (): string[] => [...fieldViews.keys()].sort();
