// A browser's HTTP/2 through Hark (test_proxy_http2.py): headless Chromium (Debian's, driven by
// puppeteer-core) with Hark as its proxy loads `--url` (an https:// page of an HTTP/2 origin)
// and reports how the navigation went. Prints {"status", "body", "nextHopProtocol"}; exits 3
// when puppeteer-core is missing (chromium_proxy.js).
'use strict';

const {arg, withBrowser} = require('./chromium_proxy');

withBrowser('h2_chromium', async (browser) => {
  const page = await browser.newPage();
  const response = await page.goto(arg('--url'), {waitUntil: 'load', timeout: 20000});
  const nextHopProtocol = await page.evaluate(() => performance.getEntries()[0].nextHopProtocol);
  const body = await response.text();
  process.stdout.write(JSON.stringify({status: response.status(), body, nextHopProtocol}) + '\n');
});
