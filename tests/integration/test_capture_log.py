"""The capture log (SPEC §7): what a worker appended survives kill -9 and is indexed after the
restart, each exchange once; /api/health and /metrics report the log and the index lag."""

import http.client
import os
import time
import unittest

from harklib import HarkTestCase, all_entry_urls, load_then_kill9, metric

# An exchange is appended when its flow ends, just after the client has read the response, and
# reaches the kernel at the appender's next tick (5 ms): one that ended this long before the kill
# must be in the store after the restart.
MARGIN = 0.1


class CaptureLogTest(HarkTestCase):

    def setUp(self):
        self.origin = self.start_http_origin()

    def get(self, conn, path):
        conn.request("GET", self.origin.url(path))
        resp = conn.getresponse()
        return resp.status, resp.read()

    def test_kill9_under_load_keeps_every_completed_exchange_once(self):
        hark = self.start_hark()
        completed, killed_at = load_then_kill9(hark, self.origin, 2.0)

        must_have = {url for at, url in completed if at < killed_at - MARGIN}
        self.assertGreater(len(must_have), 100, "too little traffic to judge")
        self.assertTrue(os.path.isdir(os.path.join(hark.data_dir, "capture-log")))

        again = self.start_hark(data_dir=hark.data_dir)
        again.wait_index_caught_up()
        urls = all_entry_urls(again)
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
