"""After kill -9 the database opens cleanly and keeps every entry completed > 1 s before."""

import http.client
import os
import sqlite3
import time
import unittest

from harklib import HarkTestCase, all_entry_urls, load_then_kill9

N = 50


def integrity(db_path):
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


class CrashSafetyTest(HarkTestCase):

    def setUp(self):
        self.origin = self.start_http_origin()

    def get(self, conn, path):
        conn.request("GET", self.origin.url(path))
        resp = conn.getresponse()
        return resp.status, resp.read()

    def test_kill9_after_quiet_period_keeps_everything(self):
        hark = self.start_hark()
        conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=10)
        for i in range(N):
            self.assertEqual(self.get(conn, "/hello?i=%d" % i), (200, b"hello"))
        conn.close()
        time.sleep(1.5)
        hark.kill9()

        self.assertTrue(os.path.exists(hark.db_path))
        self.assertEqual(integrity(hark.db_path), [("ok",)])

        again = self.start_hark(data_dir=hark.data_dir)
        again.wait_index_caught_up()  # the capture log a killed run left is indexed first
        urls = {e["url"] for e in again.entries()}
        self.assertEqual(urls, {self.origin.url("/hello?i=%d" % i) for i in range(N)})
        self.assertEqual(again.active_session()["trafficCount"], N)
        self.assertEqual(len(again.api_ok("GET", "/api/sessions")["sessions"]), 1)
        again.stop()
        self.assertEqual(integrity(hark.db_path), [("ok",)])

    def test_kill9_under_load(self):
        hark = self.start_hark()
        completed, killed_at = load_then_kill9(hark, self.origin, 2.5, per_worker=5000)

        must_have = {url for at, url in completed if at < killed_at - 1.0}
        self.assertGreater(len(must_have), 10, "too little traffic to judge")
        self.assertEqual(integrity(hark.db_path), [("ok",)])

        again = self.start_hark(data_dir=hark.data_dir)
        again.wait_index_caught_up()
        total = again.api_ok("GET", "/api/sessions/active/entries?limit=1")["total"]
        stored = set(all_entry_urls(again))
        self.assertEqual(len(stored), total)
        missing = must_have - stored
        self.assertFalse(missing, "%d of %d entries completed > 1 s before the kill are lost"
                         % (len(missing), len(must_have)))
        again.stop()


if __name__ == "__main__":
    unittest.main()
