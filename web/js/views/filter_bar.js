// The filter bar: one control per filter of GET /api/sessions/:sid/entries (docs/api.md), the
// values passed through as the API reads them. Typing applies after a short pause; `/`
// focuses the search box from anywhere.

import { html, useState, useEffect, useRef } from '../html.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT'];
const VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2'];

/** A select whose empty choice names the filter ("Method"), to keep the bar on one line. */
function Select({ label, value, options, onChange, name }) {
  return html`<select value=${value ?? ''} class=${value ? 'set' : ''} title=${label}
      aria-label=${label} onChange=${(e) => onChange(e.target.value)} data-test=${`filter-${name}`}>
      <option value="">${label}</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>`;
}

/** `<input type=datetime-local>` value ↔ the API's ISO 8601 (UTC). */
const toLocalInput = (iso) => {
  if (!iso) {
    return '';
  }
  const d = new Date(/^\d+$/.test(iso) ? Number(iso) : iso);
  if (Number.isNaN(d.getTime())) {
    return '';
  }
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
};
const fromLocalInput = (value) => (value ? new Date(value).toISOString() : '');

export function FilterBar({ filters, onChange }) {
  const [draft, setDraft] = useState(filters);
  const [showTime, setShowTime] = useState(Boolean(filters.since || filters.until));
  const search = useRef(null);
  const timer = useRef(0);
  useEffect(() => setDraft(filters), [filters]);

  useEffect(() => {
    const key = (e) => {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
      if (e.key === '/' && !typing) {
        e.preventDefault();
        search.current?.focus();
        search.current?.select();
      }
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, []);

  const set = (key, value, delay = 0) => {
    const next = { ...draft, [key]: value };
    if (!value) {
      delete next[key];
    }
    setDraft(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onChange(next), delay);
  };
  const text = (key, placeholder, width) => html`<input class=${`text ${width}`} type="search"
    placeholder=${placeholder} value=${draft[key] ?? ''} data-test=${`filter-${key}`}
    onInput=${(e) => set(key, e.target.value, 300)}
    onKeyDown=${(e) => e.key === 'Enter' && set(key, e.target.value)} />`;
  const count = Object.keys(filters).length;

  return html`
    <div class="filter-bar" role="search">
      <input ref=${search} class="text search" type="search" data-test="filter-q"
        placeholder="Search URL and headers  ( / )" value=${draft.q ?? ''}
        onInput=${(e) => set('q', e.target.value, 300)}
        onKeyDown=${(e) => e.key === 'Enter' && set('q', e.target.value)} />
      ${text('host', 'Host, *.example.com', 'w-host')}
      <${Select} label="Method" name="method" value=${draft.method}
        options=${METHODS.map((m) => [m, m])} onChange=${(v) => set('method', v)} />
      ${text('status', '404, 5xx', 'w-status')}
      <${Select} label="Version" name="httpVersion" value=${draft.httpVersion}
        options=${VERSIONS.map((v) => [v, v])} onChange=${(v) => set('httpVersion', v)} />
      <${Select} label="WebSocket" name="isWebSocket" value=${draft.isWebSocket}
        options=${[['true', 'Only WS'], ['false', 'No WS']]} onChange=${(v) => set('isWebSocket', v)} />
      <${Select} label="Errors" name="error" value=${draft.error}
        options=${[['true', 'Only failed'], ['false', 'No failed']]} onChange=${(v) => set('error', v)} />
      <button class=${`mini ${draft.since || draft.until ? 'set' : ''}`} onClick=${() => setShowTime(!showTime)}
        aria-expanded=${showTime} data-test="time-toggle">Time…</button>
      ${showTime ? html`<div class="time-range">
      <label class="filter"><span>From</span><input type="datetime-local" step="1"
        value=${toLocalInput(draft.since)} data-test="filter-since"
        onChange=${(e) => set('since', fromLocalInput(e.target.value))} /></label>
      <label class="filter"><span>To</span><input type="datetime-local" step="1"
        value=${toLocalInput(draft.until)} data-test="filter-until"
        onChange=${(e) => set('until', fromLocalInput(e.target.value))} /></label></div>` : null}
      ${count > 0 ? html`<button class="mini" onClick=${() => { setDraft({}); onChange({}); }}
        data-test="clear-filters">Clear (${count})</button>` : null}
    </div>`;
}
