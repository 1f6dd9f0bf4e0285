"""SIGHUP reopens the log file while the daemon serves (SPEC §1): the rotation logrotate does
(rename, then SIGHUP), in a loop under load. Run under ASan and TSan too (scripts/hark.sh), where
a logger replaced under the workers' feet would be reported."""

import os
import signal
import threading
import time
import unittest

from harklib import HarkTestCase, curl, make_temp_dir, raw_exchange

ROTATIONS = 40


class LogReopen(HarkTestCase):
    def test_sighup_in_a_loop_under_load(self):
        origin = self.start_http_origin()
        log_dir = make_temp_dir("hark-logs-")
        log = os.path.join(log_dir, "hark.log")
        # debug: a malformed request logs a line, so the workers write while the file is swapped.
        hark = self.start_hark(["--log-file", log, "--log-level", "debug"])
        failures = []
        done = threading.Event()
        served = [0]

        def load():
            while not done.is_set():
                r = curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                          origin.url("/hello/load")], proxy_port=hark.proxy_port)
                if r.stdout != b"200":
                    failures.append((r.stdout, r.stderr))
                served[0] += 1

        def garbage():
            # Each malformed request makes a worker log a debug line.
            while not done.is_set():
                try:
                    raw_exchange(hark.proxy_port, b"NOT HTTP\r\n\r\n", timeout=10)
                except OSError:
                    pass

        threads = [threading.Thread(target=load) for _ in range(2)]
        threads += [threading.Thread(target=garbage) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for i in range(ROTATIONS):
                os.rename(log, os.path.join(log_dir, "hark.log.%d" % i))
                hark.send_signal(signal.SIGHUP)
                time.sleep(0.05)
                self.assertTrue(hark.alive(), hark.stderr()[-2000:])
        finally:
            done.set()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(failures, [])
        self.assertGreater(served[0], 0)
        # The last SIGHUP created the file again and logs go there now.
        def current():
            with open(log) as f:
                return f.read()

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.path.exists(log) and "log file reopened" in current():
                break
            time.sleep(0.05)
        self.assertIn("log file reopened", current())
        hark.stop()
        # Nothing was lost on the way: the start line is in the first file, the stop in the last.
        with open(os.path.join(log_dir, "hark.log.0")) as f:
            self.assertIn("started", f.read())
        with open(log) as f:
            self.assertIn("stopped", f.read())
        # The CA key is never logged (docs/security.md): none of its base64 lines appear.
        with open(os.path.join(hark.data_dir, "ca", "ca-key.pem")) as f:
            key_lines = [l.strip() for l in f if l.strip() and not l.startswith("-----")]
        for name in os.listdir(log_dir):
            with open(os.path.join(log_dir, name)) as f:
                text = f.read()
            for line in key_lines:
                self.assertNotIn(line, text)


if __name__ == "__main__":
    unittest.main()
