"""After kill -9 the database opens cleanly and keeps every entry completed > 1 s before."""

import http.client
import os
import sqlite3
import threading
import time
import unittest

from harklib import HarkTestCase

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
        completed = []  # (monotonic time, url)
        stop = threading.Event()

        def client(worker):
            i = 0
            while not stop.is_set() and i < 5000:
                conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=5)
                try:
                    while not stop.is_set() and i < 5000:
                        path = "/hello?w=%d&i=%d" % (worker, i)
                        i += 1
                        if self.get(conn, path) == (200, b"hello"):
                            completed.append((time.monotonic(), self.origin.url(path)))
                except (OSError, http.client.HTTPException):
                    pass
                finally:
                    conn.close()

        threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(2.5)
        killed_at = time.monotonic()
        hark.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=10)

        must_have = {url for at, url in completed if at < killed_at - 1.0}
        self.assertGreater(len(must_have), 10, "too little traffic to judge")
        self.assertEqual(integrity(hark.db_path), [("ok",)])

        again = self.start_hark(data_dir=hark.data_dir)
        again.wait_index_caught_up()
        total = again.api_ok("GET", "/api/sessions/active/entries?limit=1")["total"]
        stored = set()
        cursor = None
        for _ in range(1000):
            path = "/api/sessions/active/entries?limit=1000"
            if cursor:
                path += "&cursor=" + cursor
            page = again.api_ok("GET", path)
            stored.update(e["url"] for e in page["entries"])
            cursor = page["nextCursor"]
            if not cursor:
                break
        self.assertEqual(len(stored), total)
        missing = must_have - stored
        self.assertFalse(missing, "%d of %d entries completed > 1 s before the kill are lost"
                         % (len(missing), len(must_have)))
        again.stop()


if __name__ == "__main__":
    unittest.main()
