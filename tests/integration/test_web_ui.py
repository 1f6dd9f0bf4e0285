"""The web UI in a real browser: Debian's headless Chromium, driven by puppeteer-core
(web_ui_check.js beside this file), against the real hark started with --api-token and a local
origin. One daemon and one browser for every check, to keep the run short:

- the page asks for the token before any API call, refuses a wrong one cleanly, then works;
- traffic sent through the proxy appears in the table live;
- a filter narrows the table and is in the page URL, and that URL restores the view;
- an entry shows its request headers in wire order and its decoded (gzip) and pretty-printed
  (JSON) response bodies; ↓ moves to the next entry;
- the session's HAR export downloads and passes har-validator, and imported through the file
  picker it becomes a new session with the same entries;
- "Copy as curl" puts the command that replays the request on the clipboard;
- no console error, page error or failed request.

The benchmark (test_million_entry_session) runs when HARK_WEB_UI_BENCH_DIR names a data
directory whose hark.db holds a large session, such as the store benchmark's database
(docs/performance.md says how to make one): first rows and scrollbar jumps in the browser.

Screenshots (token prompt, entries with detail, dark, setup, phone) and the exported HAR are
kept in $HARK_ARTIFACTS (default: build/artifacts/web_ui under the source tree).
"""

import json
import os
import shutil
import subprocess
import unittest

from harklib import HarkTestCase, missing

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_SCRIPT = os.path.join(HERE, "web_ui_check.js")
PERF_SCRIPT = os.path.join(HERE, "web_ui_perf.js")
CHROMIUM = os.environ.get("HARK_CHROMIUM", "/usr/bin/chromium")
TOKEN = "web-ui-test-token-3f1c"


def artifacts_dir():
    path = os.environ.get("HARK_ARTIFACTS") or os.path.join(HERE, "..", "..", "build",
                                                            "artifacts", "web_ui")
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)


class WebUiTest(HarkTestCase):
    def test_web_ui_in_chromium(self):
        if shutil.which("node") is None:
            raise missing("node is not installed: the web UI is not tested in a browser")
        if not os.access(CHROMIUM, os.X_OK):
            raise missing("chromium is not installed (%s): the web UI is not tested" % CHROMIUM)
        origin = self.start_http_origin()
        hark = self.start_hark(["--api-token", TOKEN])
        artifacts = artifacts_dir()
        env = dict(os.environ)
        env.update({"HARK_API": "http://127.0.0.1:%d" % hark.api_port,
                    "HARK_PROXY_PORT": str(hark.proxy_port), "HARK_TOKEN": TOKEN,
                    "ORIGIN": "http://127.0.0.1:%d" % origin.port, "ARTIFACTS": artifacts,
                    "CHROMIUM": CHROMIUM})
        for name in list(env):
            if name.lower().endswith("_proxy"):
                del env[name]
        proc = subprocess.run(["node", CHECK_SCRIPT], capture_output=True, text=True,
                              timeout=240, env=env)
        if proc.returncode == 3:
            raise missing(proc.stderr.strip())
        self.assertEqual(proc.returncode, 0, "web UI check failed:\n%s\n%s\nhark stderr:\n%s"
                         % (proc.stderr[-6000:], proc.stdout[-2000:], hark.stderr()[-3000:]))
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print("web UI figures: %s (screenshots in %s)" % (figures, artifacts))
        for name in ("token", "entries-detail", "entries-dark", "setup", "phone"):
            self.assertTrue(os.path.getsize(os.path.join(artifacts, name + ".png")) > 5000, name)
        self.assertTrue(hark.alive())
        hark.stop()


class WebUiBenchmark(HarkTestCase):
    def test_million_entry_session(self):
        data_dir = os.environ.get("HARK_WEB_UI_BENCH_DIR")
        if not data_dir:
            raise unittest.SkipTest("HARK_WEB_UI_BENCH_DIR is not set: no large session to scroll")
        if shutil.which("node") is None or not os.access(CHROMIUM, os.X_OK):
            raise missing("node or chromium is missing: the web UI benchmark cannot run")
        hark = self.start_hark(data_dir=data_dir, timeout=120)
        sessions = hark.api_ok("GET", "/api/sessions")["sessions"]
        largest = max(sessions, key=lambda s: s["trafficCount"])
        env = dict(os.environ)
        env.update({"HARK_API": "http://127.0.0.1:%d" % hark.api_port, "SESSION": largest["id"],
                    "CHROMIUM": CHROMIUM, "ARTIFACTS": artifacts_dir()})
        proc = subprocess.run(["node", PERF_SCRIPT], capture_output=True, text=True,
                              timeout=600, env=env)
        if proc.returncode == 3:
            raise missing(proc.stderr.strip())
        self.assertEqual(proc.returncode, 0, proc.stderr[-4000:] + proc.stdout[-2000:])
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print("web UI over %d entries: %s" % (largest["trafficCount"], json.dumps(figures)))
        self.assertEqual(figures["total"], largest["trafficCount"])
        for jump in figures["jumps"]:
            # The rows shown are where the scrollbar says (20 rows of overscan above the view).
            expected = jump["fraction"] * figures["total"]
            self.assertLess(abs(jump["firstRow"] - expected), 200, jump)
        hark.stop()
