"""The entries API: paging, ordering, filters, single entries, stats and deletion."""

import unittest

from harklib import HarkTestCase, curl


class EntriesApiTest(HarkTestCase):

    def setUp(self):
        self.hark = self.start_hark()
        self.origin = self.start_http_origin()
        self.urls = []
        for path in ("/hello?i=0", "/hello?i=1&tag=zebra", "/status/404", "/hello?i=3"):
            self.urls.append(self.get(path))
        self.urls.append(self.origin.url("/echo?i=4"))
        result = curl(["--data-binary", "posted", self.urls[-1]], self.hark.proxy_port)
        self.assertEqual(result.stdout, b"posted", result.stderr)
        self.all = self.hark.wait_for_entries(5)
        self.sid = self.hark.active_session()["id"]

    def get(self, path):
        url = self.origin.url(path)
        result = curl([url], self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        return url

    def page(self, query):
        return self.hark.api_ok("GET", "/api/sessions/%s/entries?%s" % (self.sid, query))

    def urls_of(self, query):
        return [e["url"] for e in self.page(query)["entries"]]

    def test_default_order_is_oldest_first(self):
        data = self.hark.api_ok("GET", "/api/sessions/active/entries")
        self.assertEqual([e["url"] for e in data["entries"]], self.urls)
        self.assertEqual(data["total"], 5)
        self.assertIsNone(data["nextCursor"])
        started = [e["timings"]["startedAt"] for e in data["entries"]]
        self.assertEqual(started, sorted(started))
        self.assertEqual(self.urls_of("order=desc"), self.urls[::-1])

    def test_cursor_paging(self):
        seen = []
        cursor = None
        for _ in range(10):
            data = self.page("limit=2" + ("&cursor=" + cursor if cursor else ""))
            self.assertLessEqual(len(data["entries"]), 2)
            self.assertEqual(data["total"], 5)
            seen += [e["url"] for e in data["entries"]]
            cursor = data["nextCursor"]
            if cursor is None:
                break
        self.assertEqual(seen, self.urls)

    def test_filters(self):
        self.assertEqual(self.urls_of("method=POST"), [self.urls[4]])
        self.assertEqual(self.urls_of("status=404"), [self.urls[2]])
        self.assertEqual(self.urls_of("status=4xx"), [self.urls[2]])
        self.assertEqual(len(self.urls_of("status=2xx")), 4)
        self.assertEqual(self.urls_of("host=127.0.0.1"), self.urls)
        self.assertEqual(self.urls_of("host=example.com"), [])
        self.assertEqual(self.urls_of("q=zebra"), [self.urls[1]])
        self.assertEqual(self.urls_of("httpVersion=HTTP/1.1"), self.urls)
        self.assertEqual(self.urls_of("isWebSocket=true"), [])
        data = self.page("method=GET&limit=1")
        self.assertEqual(data["total"], 4)
        self.assertIsNotNone(data["nextCursor"])

    def test_single_entry_and_latest(self):
        first = self.all[0]
        self.assertEqual(self.hark.api_ok("GET", "/api/sessions/%s/entries/%s"
                                          % (self.sid, first["id"])), first)
        latest = self.hark.api_ok("GET", "/api/sessions/active/entries/latest")
        self.assertEqual(latest["url"], self.urls[-1])
        status, _, data = self.hark.api("GET", "/api/sessions/active/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        self.assertEqual((status, data), (404, {"error": "Entry not found"}))
        status, _, data = self.hark.api(
            "GET", "/api/sessions/00000000-0000-4000-8000-000000000000/entries")
        self.assertEqual((status, data), (404, {"error": "Session not found"}))

    def test_bodies(self):
        post = self.all[4]
        base = "/api/sessions/%s/entries/%s" % (self.sid, post["id"])
        self.assertEqual(self.hark.api_ok("GET", base + "/request/body"), b"posted")
        self.assertEqual(self.hark.api_ok("GET", base + "/response/body"), b"posted")
        status, _, data = self.hark.api("GET", base + "/websocket")
        self.assertEqual(status, 404, data)

    def test_stats(self):
        stats = self.hark.api_ok("GET", "/api/sessions/%s/stats" % self.sid)
        self.assertEqual(stats["totalRequests"], 5)
        self.assertEqual(stats["completedRequests"], 5)
        self.assertEqual(stats["failedRequests"], 0)
        self.assertEqual(stats["totalBytes"], self.hark.active_session()["totalBytes"])
        self.assertGreater(stats["totalBytes"], 0)
        self.assertIsInstance(stats["avgDuration"], (int, float))

    def test_delete_one_and_all(self):
        victim = self.all[1]
        self.assertEqual(self.hark.api_ok("DELETE", "/api/sessions/%s/entries/%s"
                                          % (self.sid, victim["id"])), {"success": True})
        self.assertEqual(self.urls_of("limit=100"), [u for u in self.urls if u != victim["url"]])
        self.assertEqual(self.hark.active_session()["trafficCount"], 4)
        self.assertEqual(self.hark.api_ok("DELETE", "/api/sessions/%s/entries" % self.sid),
                         {"success": True})
        self.assertEqual(self.page("limit=100")["total"], 0)
        self.assertEqual(self.hark.active_session()["trafficCount"], 0)


if __name__ == "__main__":
    unittest.main()
