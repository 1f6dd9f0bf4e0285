// Headless Chromium (Debian's, driven by puppeteer-core) with Hark as its proxy, for the browser
// scripts of the integration tests (h2_chromium.js, ws_chromium.js). Reads `--proxy PORT` and
// `--chromium PATH` from the command line; exits 3 when puppeteer-core is missing.
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

/** The value after `name` on the command line, or undefined. */
function arg(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Runs `use(browser)` with a browser in a throw-away profile, then closes it and deletes the
 *  profile; `label` names the script in its error output (exit status 1 on any error). */
function withBrowser(label, use) {
  const run = async () => {
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
      await use(browser);
    } finally {
      await browser.close();
      fs.rmSync(profile, {recursive: true, force: true});
    }
  };
  run().catch((e) => {
    process.stderr.write(label + ': ' + (e.stack || e) + '\n');
    process.exit(1);
  });
}

module.exports = {arg, withBrowser};
