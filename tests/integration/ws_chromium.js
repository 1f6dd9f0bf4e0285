// A browser's WebSocket through Hark (test_websocket.py): headless Chromium (Debian's, driven
// by puppeteer-core) with Hark as its proxy opens `--url` (a wss:// echo origin), sends a text
// and a binary message, waits for both echoes and closes with 4002 "browser done". Prints
// {"echoed": [text, [bytes]]}; exits 3 when puppeteer-core is missing.
'use strict';

let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch (error) {
  process.stderr.write('puppeteer-core is not installed (./scripts/hark.sh deps installs it)\n');
  process.exit(3);
}
const fs = require('fs');
const os = require('os');
const path = require('path');

function arg(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hark-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: arg('--chromium') || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           `--user-data-dir=${profile}`, `--proxy-server=http://127.0.0.1:${arg('--proxy')}`,
           // Chromium sends loopback around proxies unless told otherwise.
           '--proxy-bypass-list=<-loopback>',
           // The leaf is Hark's, signed by a CA this throw-away profile does not hold.
           '--ignore-certificate-errors'],
  });
  try {
    const page = await browser.newPage();
    const echoed = await page.evaluate((url) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      const got = [];
      ws.onopen = () => {
        ws.send('hello from chromium');
        ws.send(new Uint8Array([1, 2, 3, 250]));
      };
      ws.onmessage = (e) => {
        got.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)));
        if (got.length === 2) ws.close(4002, 'browser done');
      };
      ws.onclose = () => resolve(got);
      ws.onerror = () => reject(new Error('WebSocket error'));
      setTimeout(() => reject(new Error('timed out')), 20000);
    }), arg('--url'));
    process.stdout.write(JSON.stringify({ echoed }) + '\n');
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write('ws_chromium: ' + (e.stack || e) + '\n');
  process.exit(1);
});
