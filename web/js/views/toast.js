// Short notices at the bottom of the page (copied, imported, failed …).

import { html, useState, useEffect } from '../html.js';

const listeners = new Set();
let nextId = 1;

/** Shows `message` for a few seconds; `kind` is 'info' or 'error'. */
export function toast(message, kind = 'info') {
  const item = { id: nextId, message, kind };
  nextId += 1;
  listeners.forEach((listener) => listener(item));
}

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const add = (item) => {
      setItems((list) => [...list.slice(-3), item]);
      setTimeout(() => setItems((list) => list.filter((x) => x.id !== item.id)), 4000);
    };
    listeners.add(add);
    return () => listeners.delete(add);
  }, []);
  return html`<div class="toasts" role="status">
    ${items.map((t) => html`<div key=${t.id} class=${`toast toast-${t.kind}`}>${t.message}</div>`)}
  </div>`;
}
