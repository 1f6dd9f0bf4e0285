// The page's state in its URL, so that a view can be shared or bookmarked: the session, the
// filters (one to one with the API's listing filters, docs/api.md "List entries") and the
// selected entry. Changes replace the history entry rather than pushing one per keystroke.

/** The API's filters, in the order the filter bar shows them. */
export const FILTER_KEYS = ['q', 'host', 'method', 'status', 'httpVersion', 'since', 'until',
  'isWebSocket', 'error'];

export function readUrlState() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) {
      filters[key] = value;
    }
  }
  return {
    session: params.get('session') ?? '',
    entry: params.get('entry') ?? '',
    filters,
  };
}

export function writeUrlState({ session, entry, filters }) {
  const params = new URLSearchParams();
  if (session) {
    params.set('session', session);
  }
  for (const key of FILTER_KEYS) {
    if (filters[key]) {
      params.set(key, filters[key]);
    }
  }
  if (entry) {
    params.set('entry', entry);
  }
  const search = params.toString();
  const url = `${location.pathname}${search ? `?${search}` : ''}`;
  if (url !== `${location.pathname}${location.search}`) {
    history.replaceState(null, '', url);
  }
}
