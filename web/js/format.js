// Formatting helpers shared by the views: sizes, durations, times, content types, headers.

export function formatBytes(n) {
  if (n === null || n === undefined || n < 0) {
    return '';
  }
  if (n < 1024) {
    return `${n} B`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) {
    return '';
  }
  if (ms < 1) {
    return `${ms.toFixed(2)} ms`;
  }
  if (ms < 1000) {
    return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  }
  return `${(ms / 1000).toFixed(2)} s`;
}

/** The total of an entry's measured phases (what HAR calls `time`). */
export function entryDuration(entry) {
  const t = entry.timings ?? {};
  let total = 0;
  let any = false;
  for (const phase of ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive']) {
    if (typeof t[phase] === 'number' && t[phase] >= 0) {
      total += t[phase];
      any = true;
    }
  }
  return any ? total : null;
}

export function formatTime(iso) {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDateTime(ms) {
  return new Date(ms).toLocaleString();
}

/** The first value of header `name` (case-insensitive) in `[name, value]` pairs. */
export function headerValue(headers, name) {
  const lower = name.toLowerCase();
  const found = (headers ?? []).find(([n]) => n.toLowerCase() === lower);
  return found ? found[1] : null;
}

/** Headers in wire order, HTTP/2 pseudo-headers (`:method`, …) first (RFC 9113 §8.3). */
export function orderedHeaders(headers) {
  const list = headers ?? [];
  return [...list.filter(([n]) => n.startsWith(':')), ...list.filter(([n]) => !n.startsWith(':'))];
}

/** A short type for the table: json, html, js, css, image, font, text, ws, … */
export function shortType(entry) {
  if (entry.isWebSocket) {
    return 'ws';
  }
  const type = (headerValue(entry.response?.headers, 'content-type') ?? '').toLowerCase();
  if (!type) {
    return '';
  }
  const rules = [['json', 'json'], ['html', 'html'], ['javascript', 'js'], ['css', 'css'],
    ['image/', 'image'], ['font', 'font'], ['xml', 'xml'], ['grpc', 'grpc'], ['text/', 'text'],
    ['form', 'form'], ['octet-stream', 'binary']];
  const rule = rules.find(([needle]) => type.includes(needle));
  return rule ? rule[1] : type.split(';')[0].split('/').pop();
}

export function urlParts(url) {
  try {
    const u = new URL(url);
    return { host: u.host, path: `${u.pathname}${u.search}` };
  } catch {
    return { host: '', path: url };
  }
}

export function statusClass(entry) {
  if (entry.error) {
    return 'st-err';
  }
  const code = entry.response?.statusCode;
  if (!code) {
    return 'st-none';
  }
  return `st-${Math.floor(code / 100)}xx`;
}

export function shortVersion(version) {
  return { 'HTTP/1.1': '1.1', 'HTTP/1.0': '1.0', 'HTTP/2': 'h2', 'HTTP/3': 'h3' }[version] ?? (version ?? '');
}
