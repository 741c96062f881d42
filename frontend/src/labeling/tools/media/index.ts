/** Media-family tools: image (Konva: image_class, bbox, polygon, keypoints), audio (wavesurfer:
 * audio_segments, transcription) and video (video_segments, video_bbox) fields. Konva and
 * wavesurfer.js are loaded on demand by the views, so they are separate chunks. */
import { registerControlTool, registerFieldView } from "../../registry";
import { AudioFieldView } from "./audio-view";
import { audioSegmentsTool, transcriptionTool, videoSegmentsTool } from "./segment-tools";
import { bboxTool, imageClassTool, keypointsTool, polygonTool } from "./image-tools";
import { ImageFieldView } from "./image-view";
import { VideoFieldView, videoBBoxTool } from "./video-view";
import "./media.css";

export function registerMediaTools(): void {
  registerFieldView({ types: ["image"], hosts: ["bbox", "polygon", "keypoints"], View: ImageFieldView });
  registerFieldView({ types: ["audio"], hosts: ["audio_segments"], View: AudioFieldView });
  registerFieldView({ types: ["video"], hosts: ["video_segments", "video_bbox"], View: VideoFieldView });
  for (const tool of [imageClassTool, bboxTool, polygonTool, keypointsTool, audioSegmentsTool, transcriptionTool, videoSegmentsTool, videoBBoxTool]) {
    registerControlTool(tool);
  }
}
