// A browser's WebSocket through Hark (test_websocket.py): headless Chromium (Debian's, driven
// by puppeteer-core) with Hark as its proxy opens `--url` (a wss:// echo origin), sends a text
// and a binary message, waits for both echoes and closes with 4002 "browser done". Prints
// {"echoed": [text, [bytes]]}; exits 3 when puppeteer-core is missing (chromium_proxy.js).
'use strict';

const {arg, withBrowser} = require('./chromium_proxy');

withBrowser('ws_chromium', async (browser) => {
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
});
