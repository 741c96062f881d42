/**
 * What the media field views and their control panels share besides the answers: the selected
 * region, the polygon being drawn, the keypoint placed next, the playhead. One small store with
 * subscribers (the panels live in another column than the canvas). Framework-free.
 */

export interface Selection {
  control: string;
  index: number;
  /** Keypoints: the selected point's name inside instance `index`. */
  point?: string;
}

export interface MediaState {
  selected: Selection | null;
  /** The polygon being drawn (image pixels), for `control`. */
  draft: { control: string; points: [number, number][] } | null;
  /** Keypoints: the instance receiving clicks, and the point the next click places. */
  keypointTarget: { control: string; instance: number | null; name: string | null } | null;
  /** Seconds, per field (audio/video playheads, read by the panels). */
  time: Record<string, number>;
  /** A short message for the user (refused edit), with the control it concerns. */
  message: { control: string; text: string } | null;
}

const initial = (): MediaState => ({ selected: null, draft: null, keypointTarget: null, time: {}, message: null });

let state: MediaState = initial();
const listeners = new Set<() => void>();

export const mediaState = (): MediaState => state;

export function updateMediaState(patch: Partial<MediaState>): void {
  state = { ...state, ...patch };
  for (const listener of [...listeners]) listener();
}

export function subscribeMediaState(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A new item: nothing selected, no draft. */
export function resetMediaState(): void {
  state = initial();
  for (const listener of [...listeners]) listener();
}

export const isSelected = (control: string, index: number): boolean => state.selected?.control === control && state.selected.index === index;

/** A playable field (audio or video view), for the panels' play buttons and hotkeys. */
export interface Player {
  toggle(): void;
  seek(seconds: number): void;
  playRange(start: number, end: number): void;
  time(): number;
}

const players = new Map<string, Player>();

export function registerPlayer(field: string, player: Player): () => void {
  players.set(field, player);
  return () => {
    if (players.get(field) === player) players.delete(field);
  };
}

export const playerFor = (field: string): Player | undefined => players.get(field);
