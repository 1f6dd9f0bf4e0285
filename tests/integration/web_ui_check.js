#!/usr/bin/env node
// Drives Hark's web UI in headless Chromium (puppeteer-core, Debian's /usr/bin/chromium) for
// test_web_ui.py, against a real hark started with --api-token and a local origin.
//
// Environment: HARK_API (http://127.0.0.1:PORT), HARK_PROXY_PORT, HARK_TOKEN, ORIGIN (http://
// 127.0.0.1:PORT), ARTIFACTS (a directory for screenshots and the downloaded HAR), CHROMIUM.
// Prints one JSON object of measured figures on stdout. Exit status 0 when every check
// passed, 1 with the failed check on stderr, 3 when puppeteer-core or har-validator is missing.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

function load(name) {
  try {
    return require(path.join(__dirname, 'node_modules', name));
  } catch (error) {
    if (error.code === 'MODULE_NOT_FOUND') {
      process.stderr.write(`${name} is not installed (./scripts/hark.sh deps installs it)\n`);
      process.exit(3);
    }
    throw error;
  }
}

const puppeteer = load('puppeteer-core');
const harValidator = load('har-validator');

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};
const API = env('HARK_API');
const PROXY_PORT = Number(env('HARK_PROXY_PORT'));
const TOKEN = env('HARK_TOKEN');
const ORIGIN = env('ORIGIN');
const ARTIFACTS = env('ARTIFACTS');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

/** One request through Hark's proxy (absolute-form target); resolves with the status. */
function viaProxy(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: PROXY_PORT, method, path: url, headers, agent: false,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET/POST on the API with the token, parsed JSON. */
function api(method, route, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${API}${route}`, {
      method, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const rowCount = (page) => page.$$eval('[data-test=entry-row]', (rows) => rows.length);
const footText = (page) => page.$eval('[data-test=table-count]', (el) => el.textContent);

async function waitForRows(page, n, what) {
  try {
    await page.waitForFunction((want) => document.querySelectorAll('[data-test=entry-row]').length === want,
      { timeout: 10000, polling: 50 }, n);
  } catch {
    throw new Error(`check failed: ${what}: expected ${n} rows, have ${await rowCount(page)} (${await footText(page)})`);
  }
}

/** Clicks the row of entry `id` (or presses `key`) and waits for its detail. */
async function openEntry(page, entry, key) {
  if (key) {
    await page.keyboard.press(key);
  } else {
    await page.click(`[data-id="${entry.id}"]`);
  }
  await page.waitForFunction((url) => document.querySelector('[data-test=detail] .detail-url')?.textContent === url,
    { timeout: 10000 }, entry.url);
  check(new URL(page.url()).searchParams.get('entry') === entry.id, `entry ${entry.id} in the URL`);
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

async function waitForFile(dir, suffix, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = fs.readdirSync(dir).find((f) => f.endsWith(suffix));
    if (found) {
      return path.join(dir, found);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`check failed: no *${suffix} downloaded into ${dir} within ${timeoutMs} ms`);
}

async function main() {
  const figures = {};
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hark-chromium-'));
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'hark-downloads-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];   // console errors, page errors, failed requests
  let expect401 = false;
  try {
    const page = await browser.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !(expect401 && /401/.test(msg.text()))) {
        problems.push(`console: ${msg.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (req) => {
      // Navigations and closed pages cancel the /api/events stream: that is not a failure.
      if (!req.url().includes('/api/events')) {
        problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
      }
    });
    await page.setViewport({ width: 1280, height: 720 });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });

    // 1. The token: asked for before any API call, refused cleanly when wrong.
    await page.goto(`${API}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-test=token-input]', { timeout: 10000 });
    check(problems.length === 0, `no error before the token is given: ${problems.join('; ')}`);
    await screenshot(page, 'token');
    expect401 = true;
    await page.type('[data-test=token-input]', 'wrong-token');
    await page.click('[data-test=token-submit]');
    await page.waitForSelector('[data-test=token-error]', { timeout: 10000 });
    check(await page.$('[data-test=table-body]') === null, 'no table with a wrong token');
    await page.$eval('[data-test=token-input]', (el) => { el.value = ''; });
    await page.type('[data-test=token-input]', TOKEN);
    await page.click('[data-test=token-submit]');
    await page.waitForSelector('[data-test=table-body]', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelector('.live-live') !== null, { timeout: 10000 });
    expect401 = false;
    check(!page.url().includes(TOKEN), 'the token is not in the page URL');

    // 2. Traffic through the proxy appears live, without a reload.
    const session = await api('GET', '/api/sessions/active');
    await viaProxy('GET', `${ORIGIN}/hello?page=1`, {
      Host: new URL(ORIGIN).host, 'X-Alpha': 'one', 'X-Beta': 'two', 'X-Gamma': 'three',
    });
    await waitForRows(page, 1, 'the first entry appears live');
    await viaProxy('GET', `${ORIGIN}/gzip`, { Host: new URL(ORIGIN).host, 'Accept-Encoding': 'gzip' });
    await viaProxy('POST', `${ORIGIN}/echo`, { Host: new URL(ORIGIN).host, 'Content-Type': 'application/json' },
      '{"user":"ada","roles":["admin","dev"],"n":1}');
    await viaProxy('GET', `${ORIGIN}/status/404`, { Host: new URL(ORIGIN).host });
    await viaProxy('GET', `${ORIGIN}/status/503`, { Host: new URL(ORIGIN).host });
    await waitForRows(page, 5, 'every entry appears live');

    // 3. A filter narrows the table and is in the URL.
    await page.select('[data-test=filter-method]', 'POST');
    await waitForRows(page, 1, 'method=POST');
    check(new URL(page.url()).searchParams.get('method') === 'POST', `method in the URL: ${page.url()}`);
    await page.click('[data-test=clear-filters]');
    await waitForRows(page, 5, 'filters cleared');
    await page.type('[data-test=filter-status]', '5xx');
    await waitForRows(page, 1, 'status=5xx');
    check(new URL(page.url()).searchParams.get('status') === '5xx', `status in the URL: ${page.url()}`);
    // The URL alone restores the view (a shared link).
    await page.goto(page.url(), { waitUntil: 'load' });
    await waitForRows(page, 1, 'status=5xx from the URL');
    check(await page.$eval('[data-test=filter-status]', (el) => el.value) === '5xx', 'filter box restored');
    await page.click('[data-test=clear-filters]');
    await waitForRows(page, 5, 'filters cleared again');

    // 4. An entry's headers in wire order, its decoded body.
    const entries = (await api('GET', `/api/sessions/${session.id}/entries`)).entries;
    const hello = entries.find((e) => e.url.includes('/hello'));
    await openEntry(page, hello);
    await page.waitForSelector('[data-test=request-headers]');
    const shown = await page.$$eval('[data-test=request-headers] tr',
      (rows) => rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent]));
    check(JSON.stringify(shown) === JSON.stringify(hello.request.headers),
      `request headers in wire order: ${JSON.stringify(shown)} vs ${JSON.stringify(hello.request.headers)}`);
    const names = shown.map(([n]) => n);
    check(names.indexOf('X-Alpha') < names.indexOf('X-Beta') && names.indexOf('X-Beta') < names.indexOf('X-Gamma'),
      `X-Alpha, X-Beta, X-Gamma in order: ${names}`);

    // ↓ moves to the next entry (the gzip one): its body decoded.
    const gzip = entries.find((e) => e.url.endsWith('/gzip'));
    await openEntry(page, gzip, 'ArrowDown');
    await page.click('[data-test=tab-response]');
    await page.waitForSelector('[data-test=response-body]');
    const text = await page.$eval('[data-test=response-body]', (el) => el.textContent);
    check(text.startsWith('Hark decodes content-encoded bodies'), `gzip body decoded: ${text.slice(0, 60)}`);

    const echo = entries.find((e) => e.url.endsWith('/echo'));
    await openEntry(page, echo);
    await page.click('[data-test=tab-response]');
    await page.waitForSelector('[data-test=response-body].json');
    const pretty = await page.$eval('[data-test=response-body]', (el) => el.textContent);
    check(pretty === JSON.stringify({ user: 'ada', roles: ['admin', 'dev'], n: 1 }, null, 2),
      `JSON pretty-printed: ${pretty}`);
    await page.click('[data-test=tab-timings]');
    await page.waitForSelector('[data-test=waterfall]');

    // 5. HAR export: downloaded, valid HAR 1.2, the session's five entries.
    await page.click('.session.selected [data-test=export]');
    const harFile = await waitForFile(downloads, '.har', 10000);
    const har = JSON.parse(fs.readFileSync(harFile, 'utf8'));
    try {
      await harValidator.har(har);
    } catch (error) {
      throw new Error(`check failed: har-validator: ${JSON.stringify(error.errors ?? error.message)}`);
    }
    check(har.log.entries.length === 5, `5 entries in the HAR, got ${har.log.entries.length}`);
    fs.copyFileSync(harFile, path.join(ARTIFACTS, 'export.har'));

    // HAR import through the file picker: a new session with the same five entries, shown.
    const input = await page.$('[data-test=har-file]');
    await input.uploadFile(path.join(ARTIFACTS, 'export.har'));
    await page.waitForFunction(() => document.querySelectorAll('[data-test=session]').length === 2,
      { timeout: 10000 });
    await page.waitForFunction(() => new URL(location.href).searchParams.get('session') !== null &&
      document.querySelector('.session.selected .session-name')?.textContent === 'export', { timeout: 10000 });
    await waitForRows(page, 5, 'the imported session');
    // Back to the recording session (sessions are newest first: the import is the first one).
    await page.evaluate(() => document.querySelectorAll('[data-test=session] .session-main')[1].click());
    await page.waitForFunction((id) => new URL(location.href).searchParams.get('session') === id, {}, session.id);
    await waitForRows(page, 5, 'back on the recording session');

    // Copy as curl: the command replays the request (the clipboard read back).
    await browser.defaultBrowserContext().overridePermissions(API, ['clipboard-read', 'clipboard-write',
      'clipboard-sanitized-write']);
    await openEntry(page, echo);
    await page.click('[data-test=copy-curl]');
    await page.waitForFunction(async () => (await navigator.clipboard.readText()).startsWith('curl'), { timeout: 5000 });
    const command = await page.evaluate(() => navigator.clipboard.readText());
    check(command === `curl -X 'POST' '${echo.url}' -H 'Content-Type: application/json' --data-binary '{"user":"ada","roles":["admin","dev"],"n":1}'`,
      `copy as curl: ${command}`);

    // 6. More traffic, of several kinds, for the screenshots of a table in use.
    const hosts = [new URL(ORIGIN).host, `localhost:${new URL(ORIGIN).port}`];
    const more = [
      ['GET', '/hello/api/v1/users?page=2'], ['GET', '/bytes?n=48213'], ['GET', '/status/301'],
      ['POST', '/upload', '{"name":"report.pdf","size":48213}'], ['GET', '/gzip'],
      ['GET', '/status/500'], ['GET', '/hello/static/app.js'], ['GET', '/status/204'],
      ['POST', '/echo/login', '{"user":"ada","password":"…"}'], ['GET', '/hello/api/v1/orders/7731'],
      ['GET', '/status/403'], ['GET', '/bytes?n=1200'], ['GET', '/hello/health'],
      ['GET', '/status/429'], ['POST', '/echo/graphql', '{"query":"{ viewer { id name } }"}'],
      ['GET', '/hello/api/v1/cart'], ['GET', '/status/502'], ['GET', '/gzip?v=2'],
    ];
    for (const [i, [method, route, body]] of more.entries()) {
      const host = hosts[i % 2];
      await viaProxy(method, `http://${host}${route}`, {
        Host: host, 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0', Accept: '*/*',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      }, body);
    }
    await waitForRows(page, 5 + more.length, 'more traffic appears live');
    await page.click('[data-test=tab-headers]');
    await page.waitForSelector('[data-test=request-headers]');
    await screenshot(page, 'entries-detail');
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    await page.click('[data-test=tab-response]');
    await page.waitForSelector('[data-test=response-body].json');
    await screenshot(page, 'entries-dark');
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

    // 7. First render of the table on a fresh load (token kept in sessionStorage).
    await page.goto(`${API}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-test=entry-row]');
    figures.firstRowMs = Math.round(await page.evaluate(() => performance.now()));

    // 8. Setup dialog, a phone-sized viewport.
    await page.click('[data-test=setup-button]');
    await page.waitForSelector('[data-test=proxy-address]');
    const address = await page.$eval('[data-test=proxy-address]', (el) => el.textContent);
    check(address === `127.0.0.1:${PROXY_PORT}`, `proxy address shown: ${address}`);
    await screenshot(page, 'setup');
    await page.keyboard.press('Escape');
    await page.click('.overlay', { offset: { x: 5, y: 5 } });
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.goto(`${API}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-test=entry-row]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `no horizontal overflow on a phone: ${overflow}px`);
    await screenshot(page, 'phone');

    check(problems.length === 0, `no console errors: ${problems.join('; ')}`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(downloads, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
