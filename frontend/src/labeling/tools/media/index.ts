/** Media-family tools: image (Konva: image_class, bbox, polygon, keypoints), audio (wavesurfer:
 * audio_segments, transcription) and video (video_segments, video_bbox) fields. */
export function registerMediaTools(): void {
  // filled in by the media tools
}
