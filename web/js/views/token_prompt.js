// Asked once when the API requires a token (--api-token, or an API beyond loopback). The token
// is sent as `Authorization: Bearer` on every call, never put in a URL.

import { html, useState } from '../html.js';
import { setToken, forgetToken } from '../api.js';

export function TokenPrompt({ rejected, onDone }) {
  const [value, setValue] = useState('');
  const [remember, setRemember] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    if (value.trim() === '') {
      return;
    }
    setToken(value.trim(), remember);
    onDone();
  };
  const clear = () => {
    forgetToken();
    onDone();
  };
  return html`
    <div class="splash">
      <form class="token-form" onSubmit=${submit}>
        <h1><img src="/ui/icon.svg" alt="" />Hark</h1>
        <p>This Hark requires an API token (<code>--api-token</code>, or the one it printed
          when it started).</p>
        ${rejected ? html`<p class="error" role="alert" data-test="token-error">
          The token was refused (401 Unauthorized). Check it and try again.</p>` : null}
        <label>API token
          <input type="password" autocomplete="off" autofocus value=${value}
            onInput=${(e) => setValue(e.target.value)} data-test="token-input" />
        </label>
        <label class="check">
          <input type="checkbox" checked=${remember} onChange=${(e) => setRemember(e.target.checked)} />
          Remember on this device</label>
        <div class="row">
          <button class="button primary" type="submit" data-test="token-submit">Connect</button>
          ${rejected ? html`<button class="button" type="button" onClick=${clear}>Forget token</button>` : null}
        </div>
      </form>
    </div>`;
}
