import { useEffect, useState } from "preact/hooks";

import { type FeedEvent, type FeedStatus as BaseFeedStatus, ProjectFeed, feedUrl } from "../../realtime/project-feed";

/** The feed's status, or "offline" once the server refused it for good (access revoked, 4403/4404). */
export type FeedStatus = BaseFeedStatus | "offline";

/** Connects to the project feed while mounted (it reconnects by itself); returns its status.
 * `onGap` runs after a reconnect: events sent meanwhile were missed (no resume cursor). */
export function useFeed(path: string, onEvent: (event: FeedEvent) => void, onGap: () => void = () => {}): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>("connecting");
  const onEventRef = useRefLatest(onEvent);
  const onGapRef = useRefLatest(onGap);
  useEffect(() => {
    if (typeof WebSocket === "undefined" || !path) return;
    const feed = new ProjectFeed({ url: feedUrl(path) });
    const offStatus = feed.onStatus((next) => setStatus(next === "closed" && !feed.willReconnect ? "offline" : next));
    const offEvents = feed.subscribe((event) => onEventRef.current(event));
    const offGap = feed.onGap(() => onGapRef.current());
    feed.start();
    return () => {
      offStatus();
      offEvents();
      offGap();
      feed.close();
    };
  }, [path]);
  return status;
}

function useRefLatest<T>(value: T): { current: T } {
  const [ref] = useState(() => ({ current: value }));
  ref.current = value;
  return ref;
}
