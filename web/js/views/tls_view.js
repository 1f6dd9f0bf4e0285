// TLS of the client connection: version, cipher, JA3, JA4 from the entry, and the connection
// log (GET /api/tls/:connectionId): every handshake message and alert of both legs.

import { html, useState, useEffect } from '../html.js';
import { getJson, enc } from '../api.js';

const named = (v) => (v ? `${v.name ?? ''} (0x${Number(v.value).toString(16).padStart(4, '0')})` : '—');

function Certificates({ list }) {
  return html`<ul class="certs">${list.map((c) => html`<li>
    <b>${c.subject}</b> <span class="muted">issued by ${c.issuer}, ${c.notBefore} → ${c.notAfter}</span>
    ${c.subjectAltNames?.length ? html`<div class="muted">SAN: ${c.subjectAltNames.map((s) => s.value).join(', ')}</div>` : null}
    <div class="mono muted">sha256 ${c.sha256}</div></li>`)}</ul>`;
}

function TlsEvent({ event }) {
  const [open, setOpen] = useState(false);
  const summary = event.type === 'alert'
    ? `${event.level?.name ?? ''} ${event.description?.name ?? ''}`
    : event.type === 'server_hello' ? named(event.cipherSuite)
      : event.type === 'client_hello' ? `${event.cipherSuites?.length ?? 0} cipher suites, ${event.extensions?.length ?? 0} extensions`
        : event.type === 'certificate' ? `${event.certificates?.length ?? 0} certificates` : '';
  return html`<li class="tls-event">
    <div class="tls-event-head" onClick=${() => setOpen(!open)}>
      <span class=${`tag leg-${event.leg}`}>${event.leg}</span>
      <span class="tag">${event.side}</span>
      <b>${event.type}</b> <span class="muted">${summary}</span>
    </div>
    ${open ? (event.type === 'certificate' && event.certificates
      ? html`<${Certificates} list=${event.certificates} />`
      : html`<pre class="code">${JSON.stringify(event, null, 2)}</pre>`) : null}
  </li>`;
}

export function TlsView({ entry }) {
  const tls = entry.tls ?? {};
  const [log, setLog] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (tls.connectionId) {
      getJson(`/api/tls/${enc(tls.connectionId)}`).then(setLog, setError);
    }
  }, [tls.connectionId]);
  if (!tls.connectionId) {
    return html`<div class="muted pad">Plain HTTP: no TLS.</div>`;
  }
  return html`
    <div class="pad">
      <table class="kv">
        <tr><th>Version</th><td>${named(tls.tlsVersion)}</td></tr>
        <tr><th>Cipher suite</th><td>${named(tls.cipherSuite)}</td></tr>
        <tr><th>SNI</th><td>${log?.sni ?? ''}</td></tr>
        <tr><th>ALPN</th><td>${log?.alpn ?? ''}</td></tr>
        <tr><th>JA3</th><td class="mono">${tls.ja3?.hash ?? '—'}<div class="muted wrap">${tls.ja3?.string ?? ''}</div></td></tr>
        <tr><th>JA4</th><td class="mono">${tls.ja4?.hashed ?? '—'}<div class="muted wrap">${tls.ja4?.raw ?? ''}</div></td></tr>
        <tr><th>Connection</th><td class="mono">${tls.connectionId}</td></tr>
      </table>
      <h3>Connection log</h3>
      ${error ? html`<p class="muted">${error.status === 404 ? 'No log for this connection.' : error.message}</p>` : null}
      ${log ? html`<ul class="tls-events">${log.events.map((e, i) => html`<${TlsEvent} key=${i} event=${e} />`)}</ul>` : null}
    </div>`;
}
