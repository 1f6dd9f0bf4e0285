// One entry in detail: summary, error, headers in wire order, bodies, timings, TLS, WebSocket
// messages, HTTP/2 frames; copy as curl or as a HAR entry.

import { html, useState, useEffect } from '../html.js';
import { getJson, enc } from '../api.js';
import { orderedHeaders, formatBytes, formatMs, entryDuration, statusClass } from '../format.js';
import { curlFor, harEntryFor, copyText } from '../curl.js';
import { BodyView } from './body_view.js';
import { TimingsView } from './timings_view.js';
import { TlsView } from './tls_view.js';
import { WebSocketView } from './websocket_view.js';
import { Http2View } from './http2_view.js';
import { toast } from './toast.js';

function Headers({ title, line, headers, test }) {
  const list = orderedHeaders(headers);
  return html`<div class="headers">
    <h3>${title} <span class="muted">(${list.length})</span><span class="line">${line}</span></h3>
    <table class="kv headers-table" data-test=${test}>
      ${list.map(([name, value], i) => html`<tr key=${i}><th>${name}</th><td>${value}</td></tr>`)}
    </table></div>`;
}

function HeadersTab({ entry }) {
  const req = entry.request;
  const res = entry.response;
  return html`<div class="pad">
    <table class="kv summary">
      <tr><th>URL</th><td class="wrap">${entry.url}</td></tr>
      <tr><th>Client</th><td>${entry.clientAddr ? `${entry.clientAddr.ip}:${entry.clientAddr.port}` : ''}
        ${entry.process ? ` · ${entry.process.name} (pid ${entry.process.pid})` : ''}</td></tr>
      <tr><th>Upstream</th><td>${entry.remoteAddr ? `${entry.remoteAddr.ip}:${entry.remoteAddr.port}` : '—'}
        ${entry.upstreamHttpVersion ? ` · ${entry.upstreamHttpVersion}` : ''}</td></tr>
    </table>
    <${Headers} title="Request headers" line=${`${req.method} ${req.path} ${req.httpVersion}`}
      headers=${req.headers} test="request-headers" />
    ${res ? html`<${Headers} title="Response headers" line=${`${res.httpVersion} ${res.statusCode} ${res.statusText}`}
      headers=${res.headers}
      test="response-headers" />` : html`<p class="muted">No response.</p>`}
  </div>`;
}

export function EntryDetail({ sessionId, entryId, onClose }) {
  const [entry, setEntry] = useState(null);
  const [error, setError] = useState(null);
  const [tab, setTab] = useState('headers');
  useEffect(() => {
    getJson(`/api/sessions/${enc(sessionId)}/entries/${enc(entryId)}`).then(setEntry, setError);
  }, [sessionId, entryId]);

  if (error) {
    return html`<div class="detail-inner"><div class="detail-head"><span class="muted">${error.message}</span>
      <span class="spacer"></span><button class="icon-button" onClick=${onClose} aria-label="Close">✕</button></div></div>`;
  }
  if (!entry) {
    return html`<div class="detail-inner muted pad">Loading…</div>`;
  }
  const tabs = [['headers', 'Headers'], ['request', 'Request'], ['response', 'Response'],
    ['timings', 'Timings']];
  if (entry.tls?.connectionId) {
    tabs.push(['tls', 'TLS']);
  }
  if (entry.isWebSocket) {
    tabs.push(['websocket', 'WebSocket']);
  }
  if (entry.http2 || entry.upstreamHttp2) {
    tabs.push(['http2', 'HTTP/2']);
  }
  const copy = (make, what) => make(entry).then(copyText).then(() => toast(`Copied ${what}`),
    (e) => toast(e.message, 'error'));
  const res = entry.response;
  return html`
    <div class="detail-inner" data-test="detail">
      <div class="detail-head">
        <span class="method">${entry.request.method}</span>
        <span class=${`status ${statusClass(entry)}`}>${res ? res.statusCode : entry.error ? 'failed' : '—'}</span>
        <span class="detail-url" title=${entry.url}>${entry.url}</span>
        <button class="icon-button" onClick=${onClose} aria-label="Close" title="Close (Esc)">✕</button>
      </div>
      <div class="detail-sub">
        <span class="muted">${entry.httpVersion} · ${formatMs(entryDuration(entry))} ·
          ↑ ${formatBytes(entry.request.bodySize)} ↓ ${res ? formatBytes(res.bodySize) : '—'}</span>
        <span class="spacer"></span>
        <button class="mini" onClick=${() => copy(curlFor, 'as curl')} data-test="copy-curl">Copy as curl</button>
        <button class="mini" onClick=${() => copy(harEntryFor, 'as HAR entry')} data-test="copy-har">Copy as HAR</button>
      </div>
      ${entry.error ? html`<div class="notice error" data-test="entry-error">
        <b>${entry.error.code}</b> ${entry.error.message}</div>` : null}
      <nav class="tabs" role="tablist">
        ${tabs.map(([key, label]) => html`<button role="tab" aria-selected=${tab === key}
          class=${`tab ${tab === key ? 'active' : ''}`} onClick=${() => setTab(key)}
          data-test=${`tab-${key}`}>${label}</button>`)}
      </nav>
      <div class="tab-body">
        ${tab === 'headers' ? html`<${HeadersTab} entry=${entry} />` : null}
        ${tab === 'request' ? html`<${BodyView} key="request" sessionId=${entry.sessionId} entryId=${entry.id}
          side="request" size=${entry.request.bodySize} />` : null}
        ${tab === 'response' ? html`<${BodyView} key="response" sessionId=${entry.sessionId} entryId=${entry.id}
          side="response" size=${res?.bodySize ?? 0} />` : null}
        ${tab === 'timings' ? html`<${TimingsView} entry=${entry} />` : null}
        ${tab === 'tls' ? html`<${TlsView} entry=${entry} />` : null}
        ${tab === 'websocket' ? html`<${WebSocketView} entry=${entry} />` : null}
        ${tab === 'http2' ? html`<${Http2View} entry=${entry} />` : null}
      </div>
    </div>`;
}
