/**
 * Next-item prefetch. The server holds one lease per annotator (a second next-item call returns the
 * held item), so the next item can only be claimed once the current one is submitted: the loader
 * starts `queue/next` the moment the submit is answered, before the page re-renders, and warms the
 * next item's media file in the HTTP cache so it is ready when the view mounts.
 */
import type { NextItem } from "./api";

export class NextItemLoader {
  private pending: Promise<NextItem> | null = null;

  constructor(
    private readonly load: () => Promise<NextItem>,
    private readonly warm: (url: string, mediaType: string) => void = warmMedia,
  ) {}

  /** Starts loading (once); later calls return the same promise until `take()`. */
  start(): Promise<NextItem> {
    if (this.pending === null) {
      this.pending = this.load().then((next) => {
        const item = next.assignment?.item;
        if (item?.media_url) this.warm(item.media_url, String((item as { media_type?: string }).media_type ?? ""));
        return next;
      });
      this.pending.catch(() => undefined);
    }
    return this.pending;
  }

  /** The prefetched answer (or a fresh request); the loader is empty afterwards. */
  take(): Promise<NextItem> {
    const promise = this.start();
    this.pending = null;
    return promise;
  }

  get started(): boolean {
    return this.pending !== null;
  }
}

export function warmMedia(url: string, mediaType: string): void {
  if (typeof Image !== "undefined" && (mediaType === "image" || mediaType === "")) {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
  }
}
