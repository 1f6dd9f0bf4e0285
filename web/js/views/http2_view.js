// HTTP/2: the entry's stream and its frames from GET /api/http2/:connectionId/streams/:id,
// for the client side and, when there is one, the upstream side. Where the endpoint does not
// answer (an older Hark, or no frame log kept) the tab says so quietly.

import { html, useState, useEffect } from '../html.js';
import { getJson, enc } from '../api.js';
import { formatTime } from '../format.js';

function frameSummary(f) {
  const flags = (f.flags?.defined ?? []).map((d) => d.name).join(',');
  const rest = Object.entries(f).filter(([k]) => !['at', 'side', 'type', 'streamId', 'flags', 'length'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
  return `${flags ? `[${flags}] ` : ''}${rest}`;
}

function Stream({ label, ids }) {
  const [frames, setFrames] = useState(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    getJson(`/api/http2/${enc(ids.connectionId)}/streams/${enc(ids.streamId)}`)
      .then(setFrames, () => setMissing(true));
  }, [ids.connectionId, ids.streamId]);
  return html`<div class="h2-stream">
    <h3>${label}: stream ${ids.streamId} <span class="muted mono">${ids.connectionId}</span></h3>
    ${missing ? html`<p class="muted">No frame log for this stream.</p>` : null}
    ${frames ? html`<table class="frames"><thead><tr><th>Time</th><th>Side</th><th>Frame</th><th>Len</th><th>Details</th></tr></thead>
      <tbody>${frames.map((f, i) => html`<tr key=${i}><td>${formatTime(f.at)}</td><td>${f.side}</td>
        <td><b>${f.type}</b></td><td>${f.length}</td><td class="mono wrap">${frameSummary(f)}</td></tr>`)}</tbody></table>` : null}
  </div>`;
}

export function Http2View({ entry }) {
  return html`<div class="pad">
    ${entry.http2 ? html`<${Stream} label="Client" ids=${entry.http2} />` : null}
    ${entry.upstreamHttp2 ? html`<${Stream} label="Upstream" ids=${entry.upstreamHttp2} />` : null}
  </div>`;
}
