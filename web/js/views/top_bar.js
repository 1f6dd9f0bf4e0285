// The bar above the panes: the session on screen, the live status, Pause, Setup.

import { html } from '../html.js';

const LIVE_LABELS = { live: 'Live', offline: 'Offline', connecting: 'Connecting' };

export function TopBar({ session, live, paused, onPause, panel, onPanel }) {
  return html`
    <header class="topbar">
      <button class="icon-button only-narrow" title="Sessions" aria-label="Sessions"
        onClick=${() => onPanel(panel === 'sessions' ? null : 'sessions')}>☰</button>
      <span class="brand"><img src="/ui/icon.svg" alt="" />Hark</span>
      <span class="session-title">${session ? session.name : 'No session'}</span>
      <span class="spacer"></span>
      <span class=${`live live-${paused ? 'paused' : live}`} title="Live updates from /api/events">
        ${paused ? 'Paused' : LIVE_LABELS[live]}</span>
      <button class="button" onClick=${() => onPause(!paused)} data-test="pause">
        ${paused ? 'Resume' : 'Pause'}</button>
      <button class="button" onClick=${() => onPanel(panel === 'setup' ? null : 'setup')}
        data-test="setup-button">Setup</button>
    </header>`;
}
