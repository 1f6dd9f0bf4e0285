"""An API bound beyond loopback always requires a token: Hark generates one and prints it
(SPEC §6.6)."""

import json
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harklib


class GeneratedTokenTest(unittest.TestCase):
    def start(self, api_listen):
        args = [harklib.require_binary(), "--data-dir", harklib.make_temp_dir(),
                "--proxy-listen", "127.0.0.1:0", "--api-listen", api_listen]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                env=harklib.clean_env())
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.terminate)
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("active session:"):
                break
        return lines

    def get(self, port, token=None):
        req = urllib.request.Request("http://127.0.0.1:%d/api/sessions" % port)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_non_loopback_api_prints_and_requires_a_token(self):
        lines = self.start("0.0.0.0:0")
        port = int(next(l for l in lines if l.startswith("api listening on")).rsplit(":", 1)[1])
        token_lines = [l for l in lines if l.startswith("api token: ")]
        self.assertEqual(len(token_lines), 1, lines)
        token = token_lines[0].split()[2]
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        self.assertEqual(self.get(port), (401, {"error": "Unauthorized"}))
        status, body = self.get(port, token)
        self.assertEqual(status, 200)
        self.assertIn("sessions", body)

    def test_loopback_api_has_no_token(self):
        lines = self.start("127.0.0.1:0")
        self.assertFalse([l for l in lines if l.startswith("api token")], lines)
        port = int(next(l for l in lines if l.startswith("api listening on")).rsplit(":", 1)[1])
        self.assertEqual(self.get(port)[0], 200)


if __name__ == "__main__":
    unittest.main()
