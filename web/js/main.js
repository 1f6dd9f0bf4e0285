// The web UI's root: the token gate, then the three panes (sessions, entries, detail) over
// the REST API and its live events. State that a shared link should carry (session, filters,
// selected entry) lives in the URL (url_state.js).

import { html, render, useState, useEffect, useCallback } from './html.js';
import { getJson, getToken, onUnauthorized } from './api.js';
import { useLiveEvents } from './live.js';
import { readUrlState, writeUrlState } from './url_state.js';
import { TokenPrompt } from './views/token_prompt.js';
import { SessionList } from './views/sessions.js';
import { FilterBar } from './views/filter_bar.js';
import { EntryTable } from './views/entry_table.js';
import { EntryDetail } from './views/entry_detail.js';
import { Setup } from './views/setup.js';
import { Toasts } from './views/toast.js';
import { TopBar } from './views/top_bar.js';

performance.mark('hark:start');  // the page's own time to its first rows is measured from here

/** Asks /api/health (no token needed) whether the API wants a token, then tries the token. */
async function checkAccess() {
  const health = await getJson('/api/health');
  if (health.auth?.tokenRequired && !getToken()) {
    return { health, state: 'needToken' };
  }
  try {
    const { sessions } = await getJson('/api/sessions');
    return { health, state: 'ok', sessions };
  } catch (error) {
    if (error.status === 401) {
      return { health, state: 'needToken', rejected: true };
    }
    throw error;
  }
}

/** Sessions as last listed, to tell an update that changed a session's entries (deleted,
 *  imported) from one that changed its name or flags. */
const knownCounts = new Map();
function countChanged(session) {
  const before = knownCounts.get(session.id);
  knownCounts.set(session.id, session.trafficCount);
  return before !== undefined && before !== session.trafficCount;
}

function App() {
  const initial = readUrlState();
  const [access, setAccess] = useState({ state: 'checking' });
  const [sessions, setSessions] = useState([]);
  const [sessionId, setSessionId] = useState(initial.session);
  const [filters, setFilters] = useState(initial.filters);
  const [entryId, setEntryId] = useState(initial.entry);
  const [paused, setPaused] = useState(false);
  const [liveTick, setLiveTick] = useState(0);
  const [reloadTick, setReloadTick] = useState(0);
  const [panel, setPanel] = useState(null);  // 'setup', or 'sessions' on narrow screens

  const retry = useCallback(() => {
    setAccess({ state: 'checking' });
    checkAccess().then(setAccess, (error) => setAccess({ state: 'down', error: error.message }));
  }, []);
  useEffect(retry, []);
  useEffect(() => onUnauthorized(() => setAccess((a) => ({ ...a, state: 'needToken', rejected: true }))), []);

  const loadSessions = useCallback(async () => {
    const data = await getJson('/api/sessions');
    data.sessions.forEach((s) => knownCounts.set(s.id, s.trafficCount));
    setSessions(data.sessions);
    return data.sessions;
  }, []);

  useEffect(() => {
    if (access.state !== 'ok') {
      return;
    }
    // The list that proved the token is the first one shown: no second request.
    const list = access.sessions;
    knownCounts.clear();
    list.forEach((s) => knownCounts.set(s.id, s.trafficCount));
    setSessions(list);
    setSessionId((current) => {
      if (current && list.some((s) => s.id === current)) {
        return current;
      }
      return (list.find((s) => s.isActive) ?? list[0])?.id ?? '';
    });
  }, [access.state]);

  useEffect(() => writeUrlState({ session: sessionId, entry: entryId, filters }),
    [sessionId, entryId, filters]);

  const live = useLiveEvents(access.state === 'ok', {
    onEntry(entry) {
      if (knownCounts.has(entry.sessionId)) {
        knownCounts.set(entry.sessionId, knownCounts.get(entry.sessionId) + 1);
      }
      if (entry.sessionId === sessionId) {
        setLiveTick((t) => t + 1);
      }
      const bytes = (entry.request?.bodySize ?? 0) + (entry.response?.bodySize ?? 0);
      setSessions((list) => list.map((s) => (s.id === entry.sessionId
        ? { ...s, trafficCount: s.trafficCount + 1, totalBytes: s.totalBytes + bytes } : s)));
    },
    onSession(event) {
      loadSessions().catch(() => {});
      // Entries deleted from or imported into the session on screen: read it again.
      if (event.action === 'updated' && event.session?.id === sessionId && countChanged(event.session)) {
        setReloadTick((t) => t + 1);
      }
    },
    onReconnect() {
      loadSessions().catch(() => {});
      setReloadTick((t) => t + 1);
    },
  });

  if (access.state === 'checking') {
    return html`<div class="splash">Connecting to Hark…</div>`;
  }
  if (access.state === 'down') {
    return html`<div class="splash error">Cannot reach Hark's API: ${access.error}
      <button onClick=${retry}>Retry</button></div>`;
  }
  if (access.state === 'needToken') {
    return html`<${TokenPrompt} rejected=${access.rejected} onDone=${retry} />`;
  }

  const session = sessions.find((s) => s.id === sessionId) ?? null;
  const chooseSession = (id) => {
    setSessionId(id);
    setEntryId('');
    setPanel(null);
  };
  return html`
    <div class=${`layout ${entryId ? 'with-detail' : ''} ${panel ? `show-${panel}` : ''}`}>
      <${TopBar} session=${session} live=${live} paused=${paused} onPause=${setPaused}
        panel=${panel} onPanel=${setPanel} />
      <aside class="sidebar">
        <${SessionList} sessions=${sessions} selected=${sessionId} onSelect=${chooseSession}
          reload=${loadSessions} />
      </aside>
      <main class="main">
        <${FilterBar} filters=${filters} onChange=${(f) => { setFilters(f); }} />
        ${sessionId
          ? html`<${EntryTable} key=${sessionId} sessionId=${sessionId} filters=${filters}
              selected=${entryId} onSelect=${setEntryId} paused=${paused}
              liveTick=${liveTick} reloadTick=${reloadTick} />`
          : html`<div class="empty">No session yet: create one on the left.</div>`}
      </main>
      ${entryId && sessionId ? html`
        <section class="detail">
          <${EntryDetail} key=${entryId} sessionId=${sessionId} entryId=${entryId}
            onClose=${() => setEntryId('')} />
        </section>` : null}
      ${panel === 'setup' ? html`<${Setup} health=${access.health} onClose=${() => setPanel(null)} />` : null}
      <${Toasts} />
    </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
