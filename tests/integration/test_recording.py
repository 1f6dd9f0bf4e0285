"""What gets stored where: recording on/off, the active session, session counters."""

import time
import unittest

from harklib import HarkTestCase, curl

# How long to wait before concluding that an entry was not stored (the writer flushes within
# a few hundred ms).
SETTLE = 0.6


class RecordingTest(HarkTestCase):

    def setUp(self):
        self.hark = self.start_hark()
        self.origin = self.start_http_origin()

    def fetch(self, path):
        url = self.origin.url(path)
        result = curl([url], self.hark.proxy_port)
        self.assertEqual((result.returncode, result.stdout), (0, b"hello"), result.stderr)
        return url

    def post(self, path, body):
        url = self.origin.url(path)
        result = curl(["--data-binary", "@-", url], self.hark.proxy_port, input=body)
        self.assertEqual((result.returncode, result.stdout), (0, body), result.stderr)
        return url

    def urls(self, session):
        return [e["url"] for e in self.hark.entries(session)]

    def test_not_recording_relays_without_storing(self):
        session = self.hark.active_session()
        recorded = self.fetch("/hello?before")
        self.hark.wait_for_entry(recorded)

        self.hark.api_ok("PATCH", "/api/sessions/" + session["id"], {"isRecording": False})
        skipped = self.fetch("/hello?paused")
        time.sleep(SETTLE)
        self.assertEqual(self.urls(session["id"]), [recorded])
        self.assertEqual(self.hark.active_session()["trafficCount"], 1)

        self.hark.api_ok("PATCH", "/api/sessions/" + session["id"], {"isRecording": True})
        resumed = self.fetch("/hello?resumed")
        self.hark.wait_for_entry(resumed)
        self.assertEqual(self.urls(session["id"]), [recorded, resumed])
        self.assertNotIn(skipped, self.urls(session["id"]))

    def test_no_active_session_relays_without_storing(self):
        session = self.hark.active_session()
        self.hark.api_ok("PATCH", "/api/sessions/" + session["id"], {"isActive": False})
        self.fetch("/hello?nobody-records")
        time.sleep(SETTLE)
        self.assertEqual(self.urls(session["id"]), [])
        health = self.hark.api_ok("GET", "/api/health")
        self.assertIsNone(health["recording"]["sessionId"])

    def test_activate_moves_new_traffic(self):
        first = self.hark.active_session()
        in_first = self.fetch("/hello?first")
        self.hark.wait_for_entry(in_first)

        second = self.hark.api_ok("POST", "/api/sessions", {"name": "second"}, status=201)
        self.fetch("/hello?still-first")
        self.hark.wait_for_entries(2, first["id"])

        self.hark.api_ok("POST", "/api/sessions/%s/activate" % second["id"])
        in_second = self.fetch("/hello?second")
        self.hark.wait_for_entry(in_second, session=second["id"])
        time.sleep(SETTLE)
        self.assertEqual(self.urls(second["id"]), [in_second])
        self.assertEqual(len(self.urls(first["id"])), 2)
        self.assertNotIn(in_second, self.urls(first["id"]))
        self.assertEqual(self.hark.wait_for_entry(in_second)["sessionId"], second["id"])

    def test_traffic_count_and_total_bytes(self):
        session = self.hark.active_session()
        self.assertEqual((session["trafficCount"], session["totalBytes"]), (0, 0))
        self.post("/echo?one", b"x" * 100)      # 100 bytes up, 100 down
        self.fetch("/hello?two")                # 0 up, 5 down
        self.hark.wait_for_entries(2)
        after = self.hark.api_ok("GET", "/api/sessions/" + session["id"])
        self.assertEqual(after["trafficCount"], 2)
        self.assertEqual(after["totalBytes"], 205)
        listed = self.hark.api_ok("GET", "/api/sessions")["sessions"]
        self.assertEqual([(s["trafficCount"], s["totalBytes"]) for s in listed], [(2, 205)])


if __name__ == "__main__":
    unittest.main()
