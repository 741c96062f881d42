/** The drawing tools of the image editor, one module each, behind one interface (tool.ts). */
import { keypointTool } from "./keypoint";
import { polygonTool } from "./polygon";
import { rectangleTool } from "./rectangle";
import type { DrawingTool, DrawingType } from "./tool";

export const DRAWING_TOOLS: Readonly<Record<DrawingType, DrawingTool>> = {
  bbox: rectangleTool as unknown as DrawingTool,
  polygon: polygonTool as unknown as DrawingTool,
  keypoints: keypointTool as unknown as DrawingTool,
};

export const DRAWING_TYPES = Object.keys(DRAWING_TOOLS) as DrawingType[];

/** The tool that draws answers of a control type; undefined for other types. */
export function drawingToolFor(type: string): DrawingTool | undefined {
  return Object.hasOwn(DRAWING_TOOLS, type) ? DRAWING_TOOLS[type as DrawingType] : undefined;
}

export { closePolygon, removeVertex } from "./polygon";
export { keypointPlacement, placeKeypoint } from "./keypoint";
export type { DrawItem, DrawingTool, DrawingType, EditorHost, Overlay, Preview, ToolDrag } from "./tool";
export { CLICK, GRAB } from "./tool";
