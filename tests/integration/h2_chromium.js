// A browser's HTTP/2 through Hark (test_proxy_http2.py): headless Chromium (Debian's, driven by
// puppeteer-core) with Hark as its proxy loads `--url` (an https:// page of an HTTP/2 origin)
// and reports how the navigation went. Prints {"status", "body", "nextHopProtocol"}; exits 3
// when puppeteer-core is missing.
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
    const response = await page.goto(arg('--url'), {waitUntil: 'load', timeout: 20000});
    const nextHopProtocol = await page.evaluate(() => performance.getEntries()[0].nextHopProtocol);
    const body = await response.text();
    process.stdout.write(JSON.stringify({status: response.status(), body, nextHopProtocol}) + '\n');
  } finally {
    await browser.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

main().catch((e) => {
  process.stderr.write('h2_chromium: ' + (e.stack || e) + '\n');
  process.exit(1);
});
