"""The capture log (SPEC §7): what a worker appended survives kill -9 and is indexed after the
restart, each exchange once; /api/health and /metrics report the log and the index lag."""

import http.client
import os
import threading
import time
import unittest

from harklib import HarkTestCase, metric

# An exchange is appended when its flow ends, just after the client has read the response, and
# reaches the kernel at the appender's next tick (5 ms): one that ended this long before the kill
# must be in the store after the restart.
MARGIN = 0.1


def all_urls(hark):
    """Every entry URL of the active session, page by page (duplicates kept)."""
    urls = []
    cursor = None
    for _ in range(1000):
        path = "/api/sessions/active/entries?limit=1000"
        if cursor:
            path += "&cursor=" + cursor
        page = hark.api_ok("GET", path)
        urls.extend(e["url"] for e in page["entries"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    return urls


class CaptureLogTest(HarkTestCase):

    def setUp(self):
        self.origin = self.start_http_origin()

    def get(self, conn, path):
        conn.request("GET", self.origin.url(path))
        resp = conn.getresponse()
        return resp.status, resp.read()

    def test_kill9_under_load_keeps_every_completed_exchange_once(self):
        hark = self.start_hark()
        completed = []  # (monotonic time, url)
        stop = threading.Event()

        def client(worker):
            i = 0
            while not stop.is_set():
                conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=5)
                try:
                    while not stop.is_set():
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
        time.sleep(2.0)
        killed_at = time.monotonic()
        hark.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=10)

        must_have = {url for at, url in completed if at < killed_at - MARGIN}
        self.assertGreater(len(must_have), 100, "too little traffic to judge")
        self.assertTrue(os.path.isdir(os.path.join(hark.data_dir, "capture-log")))

        again = self.start_hark(data_dir=hark.data_dir)
        again.wait_index_caught_up()
        urls = all_urls(again)
        stored = set(urls)
        self.assertEqual(len(urls), len(stored), "an exchange was indexed twice")
        missing = must_have - stored
        self.assertFalse(missing, "%d of %d exchanges completed before the kill are lost"
                         % (len(missing), len(must_have)))
        # Nothing beyond what the clients sent (an exchange may end after its client stopped
        # counting, never the other way round).
        self.assertLessEqual(len(stored), len({url for _, url in completed}) + 4)
        self.assertEqual(again.active_session()["trafficCount"], len(stored))
        self.assertEqual(metric(again, "hark_store_entries_dropped_total"), 0)
        print("\n  %d exchanges completed before the kill, %d stored after the restart"
              % (len(must_have), len(stored)))
        again.stop()

    def test_health_and_metrics_report_the_log_and_the_index_lag(self):
        hark = self.start_hark()
        conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=10)
        for i in range(20):
            self.assertEqual(self.get(conn, "/hello?i=%d" % i), (200, b"hello"))
        conn.close()
        hark.wait_for_entries(20)
        capture = hark.wait_index_caught_up()
        self.assertFalse(capture["paused"])
        self.assertIsNone(capture["pauseReason"])
        self.assertEqual(capture["recordsAppended"], 20)
        self.assertEqual(capture["recordsIndexed"], 20)
        self.assertEqual(capture["indexLagSeconds"], 0)
        self.assertGreaterEqual(capture["logBytes"], 0)
        self.assertEqual(metric(hark, "hark_store_index_lag_records"), 0)
        self.assertEqual(metric(hark, "hark_store_index_lag_seconds"), 0)
        self.assertEqual(metric(hark, "hark_capture_log_records_total"), 20)
        self.assertEqual(metric(hark, "hark_capture_paused"), 0)
        self.assertEqual(metric(hark, "hark_store_entries_dropped_total"), 0)
        hark.stop()

    def test_an_entry_is_listed_within_100_ms_of_its_exchange(self):
        hark = self.start_hark()
        conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=10)
        self.assertEqual(self.get(conn, "/hello?warm=1"), (200, b"hello"))
        hark.wait_for_entries(1)
        # The median of several: SPEC §7 promises 100 ms on a machine that is not saturated,
        # and the indexer runs at nice 19 behind whatever else this machine runs.
        delays = []
        for i in range(9):
            url = self.origin.url("/hello?i=%d" % i)
            self.assertEqual(self.get(conn, "/hello?i=%d" % i), (200, b"hello"))
            ended = time.monotonic()
            while hark.api_ok("GET", "/api/sessions/active/entries/latest")["url"] != url:
                self.assertLess(time.monotonic() - ended, 2.0)
                time.sleep(0.002)
            delays.append(time.monotonic() - ended)
        conn.close()
        self.assertLess(sorted(delays)[len(delays) // 2], 0.1, delays)
        hark.stop()


if __name__ == "__main__":
    unittest.main()
