// Onboarding: how to send a browser, a phone or a command-line tool through Hark, and the CA
// certificate to trust for HTTPS (the links need no token).

import { html } from '../html.js';

export function Setup({ health, onClose }) {
  const address = health.proxy?.address ?? '127.0.0.1:8080';
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), address.slice(address.lastIndexOf(':') + 1)];
  return html`
    <div class="overlay" onClick=${(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog setup" role="dialog" aria-label="Setup" data-test="setup">
        <div class="dialog-head"><h2>Set up a client</h2>
          <button class="icon-button" onClick=${onClose} aria-label="Close">✕</button></div>
        <p>Hark's proxy listens on <code data-test="proxy-address">${address}</code> (HTTP, and HTTPS through <code>CONNECT</code>).</p>
        <h3>1. Trust Hark's CA certificate</h3>
        <p class="row">
          <a class="button" href="/api/ca.pem" download="hark-ca.pem">Download CA (.pem)</a>
          <a class="button" href="/api/ca.der" download="hark-ca.cer">Download CA (.der / .cer)</a>
        </p>
        <p class="muted">A phone or another machine that already uses the proxy can open <code>http://hark.local/</code>: Hark serves the certificate there itself.</p>
        <h3>2. Send traffic through the proxy</h3>
        <dl class="setup-list">
          <dt>curl</dt>
          <dd><code>curl --proxy http://${address} --cacert hark-ca.pem https://example.com/</code></dd>
          <dt>Shell</dt>
          <dd><code>export http_proxy=http://${address} https_proxy=http://${address}</code></dd>
          <dt>Firefox</dt>
          <dd>Settings → Network Settings → Manual proxy: HTTP proxy <code>${host}</code>, port <code>${port}</code>, "Also use this proxy for HTTPS". Then Settings → Certificates → Import the .pem and trust it for websites.</dd>
          <dt>Chrome, Chromium</dt>
          <dd>Start it with <code>--proxy-server=http://${address}</code>; import the CA under Settings → Privacy and security → Security → Manage certificates → Authorities.</dd>
          <dt>Android</dt>
          <dd>Start Hark with <code>--proxy-listen 0.0.0.0:${port}</code>. Wi-Fi → the network → Proxy: manual, host = this machine's LAN address, port <code>${port}</code>. Install the .cer under Security → Encryption → Install a certificate → CA (apps trust user CAs only when they opt in).</dd>
          <dt>iOS</dt>
          <dd>Wi-Fi → (i) → Configure Proxy → Manual, as for Android. Open <code>http://hark.local/</code> in Safari, install the profile, then turn on full trust under General → About → Certificate Trust Settings.</dd>
        </dl>
      </div>
    </div>`;
}
