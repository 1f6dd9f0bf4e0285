"""Process attribution (SPEC §6, entry `process`): every local client's entry names its process,
however short-lived the client (issue: one-shot `curl -x` and one-request Python clients were
recorded with `process: null`)."""

import subprocess
import sys
import textwrap
import unittest

from harklib import HarkTestCase, clean_env, curl


class ProcessAttribution(HarkTestCase):
    def test_twenty_one_shot_curls_are_all_curl(self):
        origin = self.start_http_origin()
        hark = self.start_hark()
        urls = [origin.url("/hello/curl/%d" % i) for i in range(20)]
        for url in urls:
            r = curl(["-s", "-o", "/dev/null", url], proxy_port=hark.proxy_port)
            self.assertEqual(r.returncode, 0, r.stderr)
        entries = hark.wait_for_entries(20)
        by_url = {e["url"]: e for e in entries}
        pids = set()
        for url in urls:
            process = by_url[url]["process"]
            self.assertIsNotNone(process, url)
            self.assertEqual(process["name"], "curl", url)
            pids.add(process["pid"])
        self.assertEqual(len(pids), 20)  # one process each
        hark.stop()

    def test_a_client_that_sends_one_request_and_exits_has_its_own_pid(self):
        origin = self.start_http_origin()
        hark = self.start_hark()
        script = textwrap.dedent("""
            import http.client, os, sys
            c = http.client.HTTPConnection("127.0.0.1", %d, timeout=10)
            c.request("GET", "%s")
            c.getresponse().read()
            c.close()
            print(os.getpid())
        """ % (hark.proxy_port, origin.url("/hello/python")))
        pids = []
        for _ in range(3):
            r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30,
                               env=clean_env())
            self.assertEqual(r.returncode, 0, r.stderr)
            pids.append(int(r.stdout))
        entries = hark.wait_for_entries(3)
        seen = sorted(e["process"]["pid"] for e in entries if e["process"])
        self.assertEqual(seen, sorted(pids))
        hark.stop()


if __name__ == "__main__":
    unittest.main()
