// WebSocket messages of an upgraded connection: side, time and typed payload.

import { html, useState, useEffect } from '../html.js';
import { getJson, enc } from '../api.js';
import { formatTime } from '../format.js';

function payloadText(p) {
  switch (p.type) {
    case 'text': return p.text;
    case 'close': return `close ${p.code}${p.reason ? ` ${p.reason}` : ''}`;
    default: return `${p.data ?? ''} (base64)`;
  }
}

export function WebSocketView({ entry }) {
  const [messages, setMessages] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    getJson(`/api/sessions/${enc(entry.sessionId)}/entries/${enc(entry.id)}/websocket`)
      .then((d) => setMessages(d.messages), setError);
  }, [entry.id]);
  if (error) {
    return html`<div class="muted pad">${error.message}</div>`;
  }
  if (!messages) {
    return html`<div class="muted pad">Loading…</div>`;
  }
  if (messages.length === 0) {
    return html`<div class="muted pad">No messages captured.</div>`;
  }
  return html`<ul class="ws-messages">${messages.map((m, i) => html`
    <li key=${i} class=${`ws ws-${m.side}`}>
      <span class="ws-dir" title=${m.side === 'client' ? 'sent by the client' : 'sent by the server'}>${m.side === 'client' ? '↑' : '↓'}</span>
      <span class="muted">${formatTime(m.startedAt)}</span>
      <span class="tag">${m.payload.type}</span>
      <span class="ws-payload">${payloadText(m.payload)}</span>
    </li>`)}</ul>`;
}
