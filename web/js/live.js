// The page's subscription to /api/events while it has access: `entry` and `session` events go
// to the handlers of the latest render (so they see the current session and filters).

import { useState, useEffect, useRef } from './html.js';
import { followEvents } from './events.js';

/** Follows the events while `enabled`; returns 'live' | 'connecting' | 'offline'. `handlers`:
 *  {onEntry(entry), onSession(event), onReconnect()}. */
export function useLiveEvents(enabled, handlers) {
  const [status, setStatus] = useState('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (!enabled) {
      return undefined;
    }
    const stream = followEvents({
      types: ['entry', 'session'],
      onStatus: setStatus,
      onReconnect: () => latest.current.onReconnect(),
      onEvent: (type, data) => (type === 'entry'
        ? latest.current.onEntry(data) : latest.current.onSession(data)),
    });
    return () => stream.close();
  }, [enabled]);
  return status;
}
