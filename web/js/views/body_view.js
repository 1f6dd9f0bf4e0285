// A request or response body: content-decoded by the API (or raw with ?raw=1), shown as
// pretty JSON, text, an image, or a hex dump for other bytes. Bodies are fetched with the
// token; an image is shown from a blob: URL because an <img> cannot send the header.

import { html, useState, useEffect } from '../html.js';
import { request, enc } from '../api.js';
import { formatBytes } from '../format.js';

const SHOWN_BYTES = 512 * 1024;  // more than this is cut in the view (download for all of it)

export function hexDump(bytes, limit = 64 * 1024) {
  const lines = [];
  const end = Math.min(bytes.length, limit);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}

function isTextType(type) {
  return /^text\/|json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|csv/.test(type);
}

/** Decides how to show the fetched body: {kind: 'json'|'text'|'image'|'hex', …}. */
async function present(res, raw) {
  const type = (res.headers.get('Content-Type') ?? '').toLowerCase();
  const blob = await res.blob();
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const base = {
    size: bytes.length, type,
    decodeError: res.headers.get('X-Hark-Decode-Error'),
    truncated: res.headers.get('X-Hark-Body-Truncated') === 'true',
    encoding: res.headers.get('X-Hark-Content-Encoding'),
  };
  if (!raw && type.startsWith('image/') && !type.includes('svg')) {
    return { ...base, kind: 'image', url: URL.createObjectURL(blob) };
  }
  let text = null;
  if (isTextType(type) || type.includes('svg') || type === '') {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, SHOWN_BYTES));
    } catch {
      text = null;  // not UTF-8 after all: hex below
    }
  }
  if (text === null) {
    return { ...base, kind: 'hex', text: hexDump(bytes) };
  }
  if (type.includes('json') && bytes.length <= SHOWN_BYTES) {
    try {
      return { ...base, kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      // invalid JSON: shown as text
    }
  }
  return { ...base, kind: 'text', text };
}

export function BodyView({ sessionId, entryId, side, size }) {
  const [raw, setRaw] = useState(false);
  const [hex, setHex] = useState(false);
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let url = null;
    let live = true;
    if (!(size > 0)) {
      setState({ error: { status: 404 } });  // nothing to fetch: no request that must fail
      return undefined;
    }
    setState({ loading: true });
    const path = `/api/sessions/${enc(sessionId)}/entries/${enc(entryId)}/${side}/body${raw ? '?raw=1' : ''}`;
    request(path).then((res) => present(res, raw)).then((body) => {
      url = body.url ?? null;
      if (live) {
        setState({ body });
      }
    }, (error) => live && setState({ error }));
    return () => {
      live = false;
      if (url) {
        URL.revokeObjectURL(url);
      }
    };
  }, [sessionId, entryId, side, raw]);

  if (state.loading) {
    return html`<div class="muted pad">Loading…</div>`;
  }
  if (state.error) {
    return html`<div class="muted pad">${state.error.status === 404 ? (size > 0
      ? 'The body was not captured.' : 'No body.') : state.error.message}</div>`;
  }
  const { body } = state;
  let content;
  if (body.kind === 'image' && !hex) {
    content = html`<div class="image-preview"><img src=${body.url} alt="response image" /></div>`;
  } else if (hex && body.kind !== 'hex') {
    content = html`<div class="muted pad">Hex view of the text below the first 64 KiB: switch
      off hex to read it.</div><pre class="code">${body.kind === 'image' ? '' : hexDump(new TextEncoder().encode(body.text))}</pre>`;
  } else {
    content = html`<pre class=${`code ${body.kind}`} data-test=${`${side}-body`}>${body.text}</pre>`;
  }
  return html`
    <div class="body-view">
      <div class="body-bar">
        <span class="muted">${body.type || 'no Content-Type'} · ${formatBytes(body.size)}
          ${raw && body.encoding ? ` · ${body.encoding}` : ''}
          ${body.size > SHOWN_BYTES && body.kind !== 'image' ? ` · first ${formatBytes(SHOWN_BYTES)} shown` : ''}</span>
        <span class="spacer"></span>
        <label class="check"><input type="checkbox" checked=${raw} onChange=${(e) => setRaw(e.target.checked)} />
          as transferred</label>
        ${body.kind !== 'hex' ? html`<label class="check"><input type="checkbox" checked=${hex}
          onChange=${(e) => setHex(e.target.checked)} />hex</label>` : null}
      </div>
      ${body.decodeError ? html`<div class="notice">Could not decode: ${body.decodeError}</div>` : null}
      ${body.truncated ? html`<div class="notice">Captured body cut at --max-body-capture.</div>` : null}
      ${content}
    </div>`;
}
