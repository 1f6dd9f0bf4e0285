// Sessions: list, create, rename, activate, recording on/off, delete; HAR import (file picker
// or a file dropped anywhere on the page) and export.

import { html, useState, useEffect, useRef } from '../html.js';
import { sendJson, getJson, request, enc } from '../api.js';
import { formatBytes } from '../format.js';
import { toast } from './toast.js';

/** Downloads `res`'s body under the name its Content-Disposition gives (else `fallback`). */
async function saveResponse(res, fallback) {
  const disposition = res.headers.get('Content-Disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="([^"]+)"/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallback;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function exportSession(session) {
  // Fetched with the token (a plain link cannot carry it), then saved from a blob.
  const res = await request(`/api/har/export/${enc(session.id)}`);
  await saveResponse(res, `${session.name}.har`);
}

async function importHar(file, onImported) {
  try {
    const result = await getJson(`/api/har/import?name=${enc(file.name.replace(/\.har$/i, ''))}`,
      { method: 'POST', body: file });
    const skipped = result.total - result.imported;
    toast(`Imported ${result.imported} entries into "${result.sessionName}"${skipped ? `, ${skipped} skipped` : ''}`);
    onImported(result.sessionId);
  } catch (error) {
    toast(`Import of ${file.name} failed: ${error.message}`, 'error');
  }
}

function SessionRow({ session, selected, onSelect, reload }) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(session.name);
  const act = (promise, done) => promise.then(() => {
    reload();
    if (done) {
      toast(done);
    }
  }, (error) => toast(error.message, 'error'));
  const patch = (body) => act(sendJson('PATCH', `/api/sessions/${enc(session.id)}`, body));
  const remove = () => {
    if (confirm(`Delete "${session.name}" and its ${session.trafficCount} entries?`)) {
      act(sendJson('DELETE', `/api/sessions/${enc(session.id)}`), 'Session deleted');
    }
  };
  const rename = (event) => {
    event.preventDefault();
    setRenaming(false);
    if (name.trim() && name !== session.name) {
      patch({ name: name.trim() });
    }
  };
  return html`
    <li class=${`session ${selected ? 'selected' : ''}`} data-test="session">
      <div class="session-main" onClick=${() => onSelect(session.id)}>
        ${renaming
          ? html`<form onSubmit=${rename}><input class="rename" value=${name} autofocus
              onInput=${(e) => setName(e.target.value)} onBlur=${rename}
              onClick=${(e) => e.stopPropagation()} /></form>`
          : html`<span class="session-name" title=${session.name}>${session.name}</span>`}
        <span class="session-meta">
          ${session.isActive ? html`<span class=${`dot ${session.isRecording ? 'rec' : 'idle'}`}
            title=${session.isRecording ? 'Recording' : 'Active, not recording'}></span>` : null}
          ${session.trafficCount.toLocaleString()} · ${formatBytes(session.totalBytes) || '0 B'}
        </span>
      </div>
      <div class="session-actions">
        ${session.isActive
          ? html`<button class="mini" onClick=${() => patch({ isRecording: !session.isRecording })}>
              ${session.isRecording ? 'Stop rec' : 'Record'}</button>`
          : html`<button class="mini" onClick=${() => act(sendJson('POST', `/api/sessions/${enc(session.id)}/activate`), 'Now recording into this session')}>Activate</button>`}
        <button class="mini" onClick=${() => { setName(session.name); setRenaming(true); }}>Rename</button>
        <button class="mini" onClick=${() => exportSession(session).catch((e) => toast(e.message, 'error'))}
          data-test="export">Export</button>
        <button class="mini danger" onClick=${remove}>Delete</button>
      </div>
    </li>`;
}

export function SessionList({ sessions, selected, onSelect, reload }) {
  const fileInput = useRef(null);
  const [dragging, setDragging] = useState(false);
  const imported = (id) => reload().then(() => onSelect(id));

  useEffect(() => {
    // A .har dropped anywhere on the page is imported as a new session.
    const over = (e) => {
      if ([...(e.dataTransfer?.types ?? [])].includes('Files')) {
        e.preventDefault();
        setDragging(true);
      }
    };
    const leave = (e) => {
      if (e.relatedTarget === null) {
        setDragging(false);
      }
    };
    const drop = (e) => {
      e.preventDefault();
      setDragging(false);
      for (const file of e.dataTransfer?.files ?? []) {
        importHar(file, imported);
      }
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  const create = () => sendJson('POST', '/api/sessions', {}).then((s) => imported(s.id),
    (error) => toast(error.message, 'error'));
  return html`
    <div class="sessions">
      <div class="pane-head">
        <h2>Sessions</h2>
        <button class="mini" onClick=${create} data-test="new-session">New</button>
        <button class="mini" onClick=${() => fileInput.current.click()}>Import HAR</button>
        <input type="file" accept=".har,application/json" class="hidden" ref=${fileInput}
          data-test="har-file" multiple
          onChange=${(e) => { [...e.target.files].forEach((f) => importHar(f, imported)); e.target.value = ''; }} />
      </div>
      <ul class="session-list">
        ${sessions.map((s) => html`<${SessionRow} key=${s.id} session=${s} selected=${s.id === selected}
          onSelect=${onSelect} reload=${reload} />`)}
      </ul>
      ${dragging ? html`<div class="drop-hint">Drop a HAR file to import it as a new session</div>` : null}
    </div>`;
}
