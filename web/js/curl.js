// "Copy as curl": the request as a shell command that replays it (POSIX sh quoting).

import { getJson, enc, request } from './api.js';

const SKIPPED = new Set(['content-length', 'host', 'connection', 'proxy-connection',
  'transfer-encoding', 'keep-alive', 'upgrade']);

export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

/** The curl command for `entry`; `body` is the request body as text (or null). */
export function curlCommand(entry, body) {
  const req = entry.request;
  const parts = ['curl'];
  if (req.method !== 'GET' || body !== null) {
    parts.push('-X', shellQuote(req.method));
  }
  parts.push(shellQuote(entry.url.replace(/^ws/, 'http')));
  for (const [name, value] of req.headers ?? []) {
    if (name.startsWith(':') || SKIPPED.has(name.toLowerCase())) {
      continue;
    }
    parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  if (body !== null) {
    parts.push('--data-binary', shellQuote(body));
  }
  if (entry.httpVersion === 'HTTP/2') {
    parts.push('--http2');
  }
  if ((req.headers ?? []).some(([n, v]) => n.toLowerCase() === 'accept-encoding' && v)) {
    parts.push('--compressed');
  }
  return parts.join(' ');
}

/** curlCommand() with the captured request body fetched from the API (as transferred). */
export async function curlFor(entry) {
  let body = null;
  if (entry.request.bodySize > 0) {
    const path = `/api/sessions/${enc(entry.sessionId)}/entries/${enc(entry.id)}/request/body?raw=1`;
    try {
      body = await (await request(path)).text();
    } catch {
      body = null;
    }
  }
  return curlCommand(entry, body);
}

/** The entry as one HAR 1.2 entry (POST /api/har/export), pretty-printed. */
export async function harEntryFor(entry) {
  const doc = await getJson('/api/har/export', { method: 'POST', body: { entryIds: [entry.id] } });
  return JSON.stringify(doc.log.entries[0], null, 2);
}

/** Puts `text` on the clipboard; falls back to a hidden textarea where the async API is
 *  not allowed (page not focused, not a secure context). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // fall through
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}
