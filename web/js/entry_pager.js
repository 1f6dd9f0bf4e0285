// The rows of the entries table, loaded on demand from GET /api/sessions/:sid/entries: the
// table asks for the rows it shows (ensure), and this fetches only those, so a session of a
// million entries costs a few pages whatever the scroll position. No DOM here.
//
// Rows are addressed by their index in start-time order (the API's `asc` order). Reading on
// from a loaded row uses the API's cursor (`nextCursor`); reaching a row far from any loaded
// one seeks by time instead: the start time at that index is estimated from the rows already
// known (linear interpolation), and the rows on either side of that instant are read
// (`until` newest first, whose `total` counts the entries before the instant and so gives the
// index, and `since`). That gives exact indexes in a few requests, since both queries carry
// the same filters.

import { getJson, query, enc } from './api.js';

const PAGE = 200;
const MAX_SEEK_STEPS = 6;
const KEPT_ROWS = 20000;   // beyond, rows far from the view are dropped (memory)
const KEPT_AROUND = 5000;  // rows kept on each side of the view when dropping

/** `ms` (Unix ms, may be fractional) as ISO 8601 with microseconds, which the API accepts. */
function isoMicros(us) {
  const ms = Math.floor(us / 1000);
  const rest = Math.round(us - ms * 1000);
  return new Date(ms).toISOString().replace('Z', `${String(rest).padStart(3, '0')}Z`);
}

const startUs = (row) => Date.parse(row.timings.startedAt) * 1000;

export class EntryPager {
  /** `filters`: the API's filters (docs/api.md), `onChange()` after rows or total changed;
   *  `fromEnd`: the first rows wanted are the newest (a table that follows live traffic). */
  constructor(sessionId, filters, onChange, fromEnd = false) {
    this.fromEnd = fromEnd;
    this.sessionId = sessionId;
    this.filters = filters;
    this.onChange = onChange;
    this.rows = new Map();
    this.cursorAfter = new Map();  // index of a page's last row → the API's nextCursor
    this.total = null;             // null until the first page answered
    this.error = null;
    this.busy = false;
    this.wanted = null;
    this.closed = false;
    this.requests = 0;
  }

  close() {
    this.closed = true;
  }

  rowAt(index) {
    return this.rows.get(index);
  }

  path(params) {
    return `/api/sessions/${enc(this.sessionId)}/entries${query({ ...this.filters, ...params })}`;
  }

  async page(params) {
    this.requests += 1;
    const data = await getJson(this.path(params));
    if (this.closed) {
      throw new Error('closed');
    }
    return data;
  }

  store(first, entries, nextCursor) {
    entries.forEach((entry, i) => this.rows.set(first + i, entry));
    if (entries.length > 0 && nextCursor) {
      this.cursorAfter.set(first + entries.length - 1, nextCursor);
    }
  }

  /** The first page: the oldest rows, or the newest ones when following live traffic. */
  async first() {
    if (this.fromEnd) {
      const data = await this.page({ order: 'desc', limit: PAGE });
      this.total = data.total;
      data.entries.forEach((entry, i) => this.rows.set(data.total - 1 - i, entry));
      return;
    }
    const data = await this.page({ limit: PAGE });
    this.total = data.total;
    this.store(0, data.entries, data.nextCursor);
  }

  /** Drops the rows (and cursors) far from `center` once too many are kept. */
  trim(center) {
    if (this.rows.size <= KEPT_ROWS) {
      return;
    }
    for (const map of [this.rows, this.cursorAfter]) {
      for (const index of [...map.keys()]) {
        if (Math.abs(index - center) > KEPT_AROUND) {
          map.delete(index);
        }
      }
    }
  }

  /** Loads rows `from`..`to` (inclusive) that are not loaded yet; calls onChange when done. */
  ensure(from, to) {
    this.wanted = [from, to];
    this.trim(Math.round((from + to) / 2));
    if (!this.busy) {
      this.busy = true;
      this.pump().finally(() => {
        this.busy = false;
      });
    }
  }

  firstMissing(from, to) {
    const last = this.total === null ? to : Math.min(to, this.total - 1);
    for (let i = Math.max(0, from); i <= last; i += 1) {
      if (!this.rows.has(i)) {
        return i;
      }
    }
    return -1;
  }

  async pump() {
    try {
      for (let guard = 0; guard < 32 && !this.closed; guard += 1) {
        if (this.total === null) {
          await this.first();
          this.onChange();
          if (this.fromEnd) {
            return;  // the table scrolls to its end now and asks for what it shows there
          }
          continue;
        }
        const [from, to] = this.wanted;
        const missing = this.firstMissing(from, to);
        if (missing < 0) {
          return;
        }
        const known = this.rows.size;
        await this.load(missing, to);
        this.onChange();
        if (this.rows.size === known) {
          return;  // nothing new (rows deleted meanwhile): wait for the next ensure()
        }
      }
    } catch (error) {
      if (!this.closed) {
        this.error = error;
        this.onChange();
      }
    }
  }

  /** Loads rows from index `missing` on, reading on with a cursor when the row before it is
   *  loaded (or close), seeking by time otherwise. */
  async load(missing, to) {
    const limit = Math.min(1000, Math.max(PAGE, to - missing + 1));
    if (missing === 0) {
      const data = await this.page({ limit });
      this.store(0, data.entries, data.nextCursor);
      return;
    }
    if (to >= this.total - 1 && this.total - missing <= 1000) {
      // The end of the table (where a live view sits): the newest rows, read backwards.
      const data = await this.page({ order: 'desc', limit: this.total - missing });
      data.entries.forEach((entry, i) => this.rows.set(data.total - 1 - i, entry));
      return;
    }
    for (let back = 1; back <= 1000 && missing - back >= 0; back += 1) {
      const cursor = this.cursorAfter.get(missing - back);
      if (cursor) {
        const data = await this.page({ cursor, limit: Math.min(1000, limit + back) });
        this.store(missing - back + 1, data.entries, data.nextCursor);
        return;
      }
      if (!this.rows.has(missing - back)) {
        break;  // a gap: no cursor can reach `missing` cheaply
      }
    }
    await this.seek(missing, limit);
  }

  /** The nearest known (index, start µs) on each side of `index`. */
  anchors(index) {
    let below = null;
    let above = null;
    for (const [i, row] of this.rows) {
      if (i <= index && (below === null || i > below[0])) {
        below = [i, startUs(row)];
      }
      if (i >= index && (above === null || i < above[0])) {
        above = [i, startUs(row)];
      }
    }
    return { below, above };
  }

  async lastRow() {
    const data = await this.page({ order: 'desc', limit: 1 });
    if (data.entries.length > 0) {
      this.rows.set(data.total - 1, data.entries[0]);
    }
  }

  async seek(index, limit) {
    // Both ends of the table, the interpolation's outer bounds.
    if (!this.rows.has(0)) {
      const data = await this.page({ limit: 1 });
      this.store(0, data.entries, data.nextCursor);
    }
    if (!this.rows.has(this.total - 1)) {
      await this.lastRow();
    }
    const half = Math.max(PAGE, Math.ceil(limit / 2));
    let previous = null;
    for (let step = 0; step < MAX_SEEK_STEPS && !this.rows.has(index); step += 1) {
      const { below, above } = this.anchors(index);
      if (!below || !above) {
        return;
      }
      const span = above[0] - below[0];
      const fraction = span === 0 ? 0 : (index - below[0]) / span;
      // Whole microseconds, so that `until` just below `at` never rounds onto it.
      let at = Math.round(below[1] + fraction * (above[1] - below[1]));
      if (at === previous) {
        // The estimate no longer moves (start times are known to the millisecond only):
        // read on from the nearest row before instead, a page further each time.
        at = below[1];
      }
      if (at === previous) {
        return;
      }
      previous = at;
      // The rows just before `at` (newest first; their `total` is how many there are, which
      // is the index of the first row from `at` on) and the rows from `at` on.
      const [before, after] = await Promise.all([
        this.page({ until: isoMicros(at - 1), order: 'desc', limit: half }),
        this.page({ since: isoMicros(at), limit: half }),
      ]);
      const first = before.total;
      before.entries.forEach((entry, i) => this.rows.set(first - 1 - i, entry));
      this.store(first, after.entries, after.nextCursor);
    }
  }

  /** Re-reads the newest rows (after `entry` events): the total and the last page, exactly
   *  as the filters select them. */
  async refreshTail() {
    try {
      const data = await this.page({ order: 'desc', limit: 50 });
      this.total = data.total;
      data.entries.forEach((entry, i) => this.rows.set(data.total - 1 - i, entry));
      this.onChange();
    } catch (error) {
      if (!this.closed) {
        this.error = error;
        this.onChange();
      }
    }
  }
}
