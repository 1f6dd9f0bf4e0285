// Preact with htm's tagged templates: components are written as html`<div>…</div>` and need no
// build step. Every view imports what it needs from here.
import { h, render, Fragment } from '../vendor/preact.module.js';
import htm from '../vendor/htm.module.js';

export { h, render, Fragment };
export {
  useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect,
} from '../vendor/hooks.module.js';

export const html = htm.bind(h);
