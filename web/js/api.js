// The REST API client (docs/api.md): every call carries the token as `Authorization: Bearer`
// when one is set, never in a URL. The token is kept in sessionStorage (this tab), or in
// localStorage when the user asks to remember it on this device.

const TOKEN_KEY = 'hark.apiToken';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? '';

export function getToken() {
  return token;
}

/** Keeps `value` for later calls; `remember` also keeps it across browser restarts. */
export function setToken(value, remember) {
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  if (remember) {
    localStorage.setItem(TOKEN_KEY, value);
  } else {
    localStorage.removeItem(TOKEN_KEY);
  }
}

export function forgetToken() {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

/** Listeners told when a call is refused with 401 (the token is missing or wrong). */
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function authHeaders(extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** fetch() of an API path with the token; throws ApiError with the API's message on non-2xx. */
export async function request(path, { method = 'GET', body, signal, headers } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const data = await res.json();
      if (data && typeof data.error === 'string') {
        message = data.error;
      }
    } catch {
      // not JSON: keep the status line
    }
    if (res.status === 401) {
      unauthorizedListeners.forEach((listener) => listener());
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

export async function getJson(path, options) {
  const res = await request(path, options);
  return res.json();
}

export const sendJson = (method, path, body) => getJson(path, { method, body });

/** Query string of the non-empty values of `params`. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;
