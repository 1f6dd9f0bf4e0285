#!/usr/bin/env node
// The web UI's table over a large session, in headless Chromium (for test_web_ui.py's
// benchmark; docs/performance.md has the figures): the time to the first rows on a fresh
// load, and for jumps of the scrollbar to points spread over the session, the time until the
// rows in view are filled, with the longest main-thread task (a stall) seen meanwhile.
//
// Environment: HARK_API, SESSION (the session's id), CHROMIUM, ARTIFACTS (optional).
// Prints one JSON object of figures; exit status 1 on failure, 3 when puppeteer-core is
// missing.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

let puppeteer;
try {
  puppeteer = require(path.join(__dirname, 'node_modules', 'puppeteer-core'));
} catch (error) {
  process.stderr.write(`puppeteer-core is not installed: ${error.message}\n`);
  process.exit(3);
}

const API = process.env.HARK_API;
const SESSION = process.env.SESSION;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const JUMPS = [0.5, 0.1, 0.9, 0.333, 0.777, 0.02, 0.61, 0.25, 0.999, 0.45];

/** Waits until every row in view is a loaded row; returns the time it took in ms. */
async function timeToRows(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const start = performance.now();
    const body = document.querySelector('[data-test=table-body]');
    const tick = () => {
      const top = body.getBoundingClientRect().top;
      const bottom = top + body.clientHeight;
      const rows = [...body.querySelectorAll('.row')].filter((r) => {
        const rect = r.getBoundingClientRect();
        return rect.bottom > top && rect.top < bottom;
      });
      if (rows.length > 0 && rows.every((r) => !r.classList.contains('placeholder'))) {
        resolve(performance.now() - start);
      } else if (performance.now() - start > 30000) {
        const calls = performance.getEntriesByType('resource').filter((r) => r.name.includes('/entries'))
          .slice(-8).map((r) => decodeURIComponent(r.name.replace(/^.*entries/, '')));
        const shown = rows.map((r) => r.querySelector('.c-num')?.textContent).join(',');
        reject(new Error(`rows not filled after 30 s: ${rows.length} rows in view (${shown}); last calls: ${calls.join(' | ')}`));
      } else {
        requestAnimationFrame(tick);
      }
    };
    tick();
  }));
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hark-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
    await page.setViewport({ width: 1280, height: 720 });
    await page.evaluateOnNewDocument(() => {
      window.harkLongTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          window.harkLongTasks.push(e.duration);
        }
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${API}/?session=${SESSION}`, { waitUntil: 'load' });
    await page.waitForSelector('[data-test=entry-row]', { timeout: 30000 });
    const firstRowMs = await page.evaluate(() => performance.now());
    // From the app's start (its modules loaded) to the first rows drawn, and the same on a
    // second load (files revalidated from the cache).
    const appMs = () => page.evaluate(async () => {
      for (let i = 0; i < 100 && performance.getEntriesByName('hark:first-rows').length === 0; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const [start] = performance.getEntriesByName('hark:start');
      const [rows] = performance.getEntriesByName('hark:first-rows');
      return { tableMs: rows.startTime - start.startTime, fromNavigationMs: rows.startTime };
    });
    const coldTable = await appMs();
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('[data-test=entry-row]', { timeout: 30000 });
    const warmTable = await appMs();
    const total = await page.evaluate(() => Number(document.querySelector('[role=grid]').getAttribute('aria-rowcount')));
    const loadLongest = await page.evaluate(() => Math.max(0, ...window.harkLongTasks));
    const jumps = [];
    for (const fraction of JUMPS) {
      await page.evaluate(() => { window.harkLongTasks = []; });
      await page.evaluate((f) => {
        const body = document.querySelector('[data-test=table-body]');
        body.scrollTop = f * (body.scrollHeight - body.clientHeight);
      }, fraction);
      const ms = await timeToRows(page);
      const longest = await page.evaluate(() => Math.max(0, ...window.harkLongTasks));
      const first = await page.$eval('[data-test=entry-row] .c-num', (el) => el.textContent);
      jumps.push({ fraction, ms: Math.round(ms), longestTaskMs: Math.round(longest), firstRow: Number(first) });
    }
    // Steady scrolling: 60 wheel steps of 600 px, as fast as the page takes them.
    await page.evaluate(() => { window.harkLongTasks = []; });
    await page.mouse.move(500, 400);
    const wheelStart = Date.now();
    for (let i = 0; i < 60; i += 1) {
      await page.mouse.wheel({ deltaY: 600 });
    }
    const wheelRowsMs = await timeToRows(page);
    const wheelLongest = await page.evaluate(() => Math.max(0, ...window.harkLongTasks));
    const requests = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((r) => r.name.includes('/entries')).length);
    if (fs.existsSync(process.env.ARTIFACTS || '')) {
      await page.screenshot({ path: path.join(process.env.ARTIFACTS, 'million.png') });
    }
    const figures = {
      total, firstRowMs: Math.round(firstRowMs), loadLongestTaskMs: Math.round(loadLongest),
      coldTableMs: Math.round(coldTable.tableMs), warmTableMs: Math.round(warmTable.tableMs),
      warmFirstRowMs: Math.round(warmTable.fromNavigationMs),
      jumps, jumpMaxMs: Math.max(...jumps.map((j) => j.ms)),
      jumpLongestTaskMs: Math.max(...jumps.map((j) => j.longestTaskMs)),
      wheelMs: Date.now() - wheelStart, wheelRowsMs: Math.round(wheelRowsMs),
      wheelLongestTaskMs: Math.round(wheelLongest), entryRequests: requests, problems,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    if (problems.length > 0) {
      throw new Error(`console errors: ${problems.join('; ')}`);
    }
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
