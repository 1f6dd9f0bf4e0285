// The timings waterfall: the phases of one exchange (HAR's order) as bars on one time axis.

import { html } from '../html.js';
import { formatMs } from '../format.js';

const PHASES = [['blocked', 'Blocked'], ['dns', 'DNS'], ['connect', 'Connect'], ['ssl', 'TLS'],
  ['send', 'Send'], ['wait', 'Wait'], ['receive', 'Receive']];

export function TimingsView({ entry }) {
  const t = entry.timings ?? {};
  const known = PHASES.filter(([key]) => typeof t[key] === 'number' && t[key] >= 0);
  const total = known.reduce((sum, [key]) => sum + t[key], 0);
  let at = 0;
  return html`
    <div class="pad">
      <p class="muted">Started ${t.startedAt ?? '—'}${total > 0 ? ` · total ${formatMs(total)}` : ''}</p>
      <div class="waterfall" data-test="waterfall">
        ${PHASES.map(([key, label]) => {
          const value = t[key];
          const measured = typeof value === 'number' && value >= 0;
          const left = total > 0 ? (at / total) * 100 : 0;
          const width = total > 0 && measured ? Math.max(0.5, (value / total) * 100) : 0;
          if (measured) {
            at += value;
          }
          return html`<div class="wf-row">
            <span class="wf-label">${label}</span>
            <span class="wf-track"><span class=${`wf-bar wf-${key}`}
              style=${{ left: `${left}%`, width: `${width}%` }}></span></span>
            <span class="wf-value">${measured ? formatMs(value) : 'not measured'}</span>
          </div>`;
        })}
      </div>
    </div>`;
}
