// /api/events (Server-Sent Events) read with fetch() instead of EventSource: EventSource cannot
// send an Authorization header, and the token must never go into a URL. The stream is parsed
// here (HTML Living Standard §9.2.6, the event-stream format) and reopened after a drop, with
// `onReconnect` called so that the page catches up through the REST API (the stream does not
// replay missed events).

import { authHeaders } from './api.js';

/** Splits an event-stream into events; `feed()` takes text as it arrives. */
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.type = '';
    this.data = [];
  }

  feed(text) {
    this.buffer += text;
    let end;
    while ((end = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, end);
      const newline = this.buffer.startsWith('\r\n', end) ? 2 : 1;
      this.buffer = this.buffer.slice(end + newline);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) {
        this.onEvent(this.type || 'message', this.data.join('\n'));
      }
      this.type = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      return;  // a comment: the keep-alive
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'event') {
      this.type = value;
    } else if (field === 'data') {
      this.data.push(value);
    }
  }
}

/**
 * Follows /api/events until `close()`: `onEvent(type, data)` with data parsed from JSON,
 * `onStatus('live' | 'connecting' | 'offline', detail)`, `onReconnect()` after a stream was
 * reopened. Returns {close}.
 */
export function followEvents({ types, onEvent, onStatus, onReconnect }) {
  const controller = new AbortController();
  let attempt = 0;
  let closed = false;

  async function once() {
    const path = `/api/events?types=${encodeURIComponent(types.join(','))}`;
    const res = await fetch(path, { headers: authHeaders(), signal: controller.signal });
    if (!res.ok || !res.body) {
      throw new Error(`events: ${res.status}`);
    }
    onStatus('live');
    if (attempt > 0) {
      onReconnect();
    }
    attempt = 0;
    const parser = new EventStreamParser((type, data) => {
      try {
        onEvent(type, JSON.parse(data));
      } catch (error) {
        onStatus('live', `bad event: ${error.message}`);
      }
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      parser.feed(value);
    }
  }

  async function loop() {
    while (!closed) {
      onStatus('connecting');
      try {
        await once();
      } catch (error) {
        if (closed) {
          return;
        }
      }
      if (closed) {
        return;
      }
      attempt += 1;
      onStatus('offline');
      // 0.5 s, 1 s, 2 s, … up to 10 s between attempts.
      const delay = Math.min(10000, 500 * 2 ** Math.min(attempt - 1, 5));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  loop();
  return {
    close() {
      closed = true;
      controller.abort();
    },
  };
}
