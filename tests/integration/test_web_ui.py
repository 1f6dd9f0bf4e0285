"""The web UI in a real browser: Debian's headless Chromium, driven by puppeteer-core
(web_ui_check.js beside this file), against the real hark started with --api-token and a local
origin. One daemon and one browser for every check, to keep the run short:

- the page asks for the token before any API call, refuses a wrong one cleanly, then works;
- traffic sent through the proxy appears in the table live;
- a filter narrows the table and is in the page URL, and that URL restores the view;
- an entry shows its request headers in wire order and its decoded (gzip) and pretty-printed
  (JSON) response bodies; ↓ moves to the next entry;
- the session's HAR export downloads and passes har-validator;
- no console error, page error or failed request.

Screenshots (token prompt, entries with detail, dark, setup, phone) and the exported HAR are
kept in $HARK_ARTIFACTS (default: build/artifacts/web_ui under the source tree).
"""

import json
import os
import shutil
import subprocess

from harklib import HarkTestCase, missing

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_SCRIPT = os.path.join(HERE, "web_ui_check.js")
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
