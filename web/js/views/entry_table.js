// The entries table: virtual scrolling over EntryPager (only the rows in view exist in the
// DOM, and only their pages are fetched), live rows from `entry` events, ↑/↓ to move through
// entries. A table scrolled to its end follows new traffic; one scrolled up stays put.

import { html, useState, useEffect, useRef, useLayoutEffect } from '../html.js';
import { EntryPager } from '../entry_pager.js';
import {
  formatBytes, formatMs, entryDuration, shortType, urlParts, statusClass, shortVersion,
  formatTime,
} from '../format.js';

const ROW_HEIGHT = 24;
const OVERSCAN = 20;

const COLUMNS = [
  ['#', 'c-num'], ['Time', 'c-time'], ['Method', 'c-method'], ['Status', 'c-status'],
  ['Host', 'c-host'], ['Path', 'c-path'], ['Type', 'c-type'], ['Size', 'c-size'],
  ['Duration', 'c-dur'], ['Ver', 'c-ver'], ['Process', 'c-proc'],
];

function Row({ index, entry, selected, onClick }) {
  const style = { transform: `translateY(${index * ROW_HEIGHT}px)` };
  if (!entry) {
    return html`<div class="row placeholder" style=${style}><span class="c-num">${index + 1}</span>
      <span class="c-loading">…</span></div>`;
  }
  const { host, path } = urlParts(entry.url);
  const status = entry.error ? 'failed' : entry.response?.statusCode ?? '—';
  const size = entry.response ? formatBytes(entry.response.bodySize) : '';
  return html`
    <div class=${`row ${selected ? 'selected' : ''} ${entry.error ? 'failed' : ''}`} style=${style}
      onClick=${() => onClick(index, entry)} data-id=${entry.id} data-test="entry-row" role="row"
      aria-selected=${selected}>
      <span class="c-num">${index + 1}</span>
      <span class="c-time">${formatTime(entry.timings?.startedAt)}</span>
      <span class="c-method">${entry.request.method}</span>
      <span class=${`c-status ${statusClass(entry)}`} title=${entry.error?.code ?? ''}>${status}</span>
      <span class="c-host" title=${host}>${host}</span>
      <span class="c-path" title=${path}>${path}</span>
      <span class="c-type">${shortType(entry)}</span>
      <span class="c-size">${size}</span>
      <span class="c-dur">${formatMs(entryDuration(entry))}</span>
      <span class="c-ver">${shortVersion(entry.httpVersion)}</span>
      <span class="c-proc" title=${entry.process ? `pid ${entry.process.pid}` : ''}>${entry.process?.name ?? ''}</span>
    </div>`;
}

/** The scroll position and height of `ref`'s element, updated at most once per frame;
 *  `sync()` reads them at once (after the code scrolled it). */
function useViewport(ref) {
  const [view, setView] = useState({ top: 0, height: 600 });
  const sync = () => setView({ top: ref.current.scrollTop, height: ref.current.clientHeight });
  useLayoutEffect(() => {
    const el = ref.current;
    // At most one render per frame, however many scroll events arrive.
    let frame = 0;
    const update = () => {
      frame = 0;
      setView({ top: el.scrollTop, height: el.clientHeight });
    };
    const schedule = () => {
      if (frame === 0) {
        frame = requestAnimationFrame(update);
      }
    };
    const observer = new ResizeObserver(schedule);
    observer.observe(el);
    el.addEventListener('scroll', schedule, { passive: true });
    update();
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', schedule);
      cancelAnimationFrame(frame);
    };
  }, []);
  return [view, sync];
}

/** ↑/↓ select the previous or next entry (scrolled into view), Esc closes the detail. */
function useArrowKeys(pager, selected, scroller, choose, onSelect, selectedIndex) {
  useEffect(() => {
    const key = (e) => {
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || !pager) {
        return;
      }
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') {
        if (e.key === 'Escape') {
          onSelect('');
        }
        return;
      }
      e.preventDefault();
      let index = selectedIndex.current;
      if (index < 0 || pager.rowAt(index)?.id !== selected) {
        index = [...pager.rows].find(([, row]) => row.id === selected)?.[0] ?? -1;
      }
      const next = Math.min(Math.max(0, index + (e.key === 'ArrowDown' ? 1 : -1)), (pager.total ?? 1) - 1);
      const row = pager.rowAt(next);
      const el = scroller.current;
      if (next * ROW_HEIGHT < el.scrollTop) {
        el.scrollTop = next * ROW_HEIGHT;
      } else if ((next + 1) * ROW_HEIGHT > el.scrollTop + el.clientHeight - ROW_HEIGHT) {
        el.scrollTop = (next + 2) * ROW_HEIGHT - el.clientHeight;
      }
      if (row) {
        choose(next, row);
      }
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [pager, selected]);
}

/** Live rows: the tail re-read shortly after entry events (batched while traffic flows), and
 *  once on resume. */
function useLiveTail(pager, paused, liveTick) {
  useEffect(() => {
    if (!pager || paused || liveTick === 0) {
      return undefined;
    }
    const timer = setTimeout(() => pager.refreshTail(), 150);
    return () => clearTimeout(timer);
  }, [liveTick, paused, pager]);
  useEffect(() => {
    if (!paused && pager && liveTick > 0) {
      pager.refreshTail();
    }
  }, [paused]);
}

export function EntryTable({ sessionId, filters, selected, onSelect, paused, liveTick, reloadTick }) {
  const scroller = useRef(null);
  const [view, syncView] = useViewport(scroller);
  const [, setVersion] = useState(0);
  const [pager, setPager] = useState(null);
  // Follow new traffic at the end, unless the page was opened on an entry (a shared link).
  const follow = useRef(!selected);
  const selectedIndex = useRef(-1);

  // Layout effects: the first request leaves before the first paint, not a frame after it.
  useLayoutEffect(() => {
    const p = new EntryPager(sessionId, filters, () => setVersion((v) => v + 1), follow.current);
    setPager(p);
    selectedIndex.current = -1;
    return () => p.close();
  }, [sessionId, JSON.stringify(filters), reloadTick]);

  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.floor((view.top + view.height) / ROW_HEIGHT) + OVERSCAN;
  useLayoutEffect(() => {
    pager?.ensure(first, last);
  }, [pager, first, last]);

  useLiveTail(pager, paused, liveTick);

  const total = pager?.total ?? 0;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (follow.current && el && total * ROW_HEIGHT > el.clientHeight) {
      el.scrollTop = el.scrollHeight;
      syncView();  // the rows at the end, without waiting a frame for the scroll event
    }
  }, [total]);
  const onScroll = () => {
    const el = scroller.current;
    follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
  };

  const choose = (index, entry) => {
    selectedIndex.current = index;
    onSelect(entry.id);
  };

  useArrowKeys(pager, selected, scroller, choose, onSelect, selectedIndex);

  useLayoutEffect(() => {
    if (pager?.rowAt(first) && performance.getEntriesByName('hark:first-rows').length === 0) {
      performance.mark('hark:first-rows');  // for the benchmark (tests/integration/web_ui_perf.js)
    }
  });

  const rows = [];
  if (pager && pager.total !== null) {
    for (let i = first; i <= Math.min(last, pager.total - 1); i += 1) {
      const entry = pager.rowAt(i);
      rows.push(html`<${Row} key=${i} index=${i} entry=${entry} selected=${entry && entry.id === selected}
        onClick=${choose} />`);
    }
  }

  return html`
    <div class="table" role="grid" aria-rowcount=${total}>
      <div class="row head" role="row">${COLUMNS.map(([label, cls]) => html`<span class=${cls}>${label}</span>`)}</div>
      <div class="table-body" ref=${scroller} onScroll=${onScroll} data-test="table-body">
        <div class="table-space" style=${{ height: `${total * ROW_HEIGHT}px` }}>${rows}</div>
        ${pager && pager.total === 0 ? html`<div class="empty">${Object.keys(filters).length
          ? 'No entry matches these filters.'
          : 'No traffic yet. Send requests through the proxy (Setup shows how): they appear here live.'}</div>` : null}
        ${pager?.error ? html`<div class="empty error">${pager.error.message}</div>` : null}
      </div>
      <div class="table-foot" data-test="table-count">${pager?.total === null || !pager ? 'Loading…'
        : `${total.toLocaleString()} ${total === 1 ? 'entry' : 'entries'}${Object.keys(filters).length ? ' match' : ''}`}</div>
    </div>`;
}
