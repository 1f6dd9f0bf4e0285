"""The HTTP/2 frame log through the real daemon (SPEC §4, §6.5): curl speaks h2 to Hark, Hark h2
to a Node origin; both of Hark's connections have a frame log, read through
GET /api/http2/:connectionId[/streams/:streamId] and the JSON-RPC http2/* methods."""

import time
import unittest

from harklib import curl
from test_proxy_http2 import NodeOriginCase


class Http2FrameLogTest(NodeOriginCase):
    def stream(self, connection_id, stream_id, timeout=5.0):
        """The stream's events, once the store has them."""
        deadline = time.monotonic() + timeout
        path = "/api/http2/%s/streams/%d" % (connection_id, stream_id)
        while True:
            status, _, data = self.hark.api("GET", path)
            if status == 200 or time.monotonic() > deadline:
                self.assertEqual(status, 200, data)
                return data
            time.sleep(0.05)

    def rpc(self, method, params):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return self.hark.api_ok("POST", "/api/rpc", body)["result"]

    def test_both_connections_of_a_curl_request_are_logged(self):
        url = "https://localhost:%d/echo?framelog" % self.origin.port
        result = curl(["--http2", "--cacert", self.ca, url], self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        e = self.hark.wait_for_entry(url)
        client_id = e["http2"]["connectionId"]
        upstream_id = e["upstreamHttp2"]["connectionId"]

        # The client's connection: curl's request on stream 1, Hark's answer.
        events = self.stream(client_id, e["http2"]["streamId"])
        client_headers = [x for x in events if x["side"] == "client" and x["type"] == "headers"]
        self.assertEqual(len(client_headers), 1, events)
        self.assertIn({"value": 4, "name": "END_HEADERS"}, client_headers[0]["flags"]["defined"])
        self.assertTrue(client_headers[0]["headerBlockFragment"])
        server_types = [x["type"] for x in events if x["side"] == "server"]
        self.assertEqual(server_types[0], "headers", events)
        self.assertTrue(any(x["type"] == "data" and x["flags"]["value"] & 1 for x in events
                            if x["side"] == "server"), events)
        stream_ids = self.hark.api_ok("GET", "/api/http2/" + client_id)
        self.assertEqual(stream_ids[:2], [0, 1])
        self.assertEqual(self.rpc("http2/get_stream_ids", {"connectionId": client_id}), stream_ids)
        connection = self.stream(client_id, 0)
        settings = [x for x in connection if x["type"] == "settings"]
        # Both SETTINGS, whichever went first, and both acknowledged.
        self.assertEqual(sorted(x["side"] for x in settings if x["flags"]["value"] == 0),
                         ["client", "server"])
        self.assertEqual(sorted(x["side"] for x in settings if x["flags"]["value"] == 1),
                         ["client", "server"])
        # Hark's own SETTINGS (SPEC §4: large windows) as the client saw them.
        ours = [x for x in settings if x["side"] == "server" and x["flags"]["value"] == 0][0]
        names = [s["identifier"]["name"] for s in ours["settings"]]
        self.assertIn("INITIAL_WINDOW_SIZE", names)

        # Hark's connection with the origin: Hark is the client there.
        upstream = self.stream(upstream_id, e["upstreamHttp2"]["streamId"])
        self.assertEqual(upstream[0]["side"], "client")
        self.assertEqual(upstream[0]["type"], "headers")
        self.assertEqual(self.rpc("http2/get_stream", {"connectionId": upstream_id,
                                                       "streamId": e["upstreamHttp2"]["streamId"]}),
                         upstream)
        self.assertIn(0, self.hark.api_ok("GET", "/api/http2/" + upstream_id))

    def test_unknown_ids(self):
        status, _, data = self.hark.api("GET", "/api/http2/01J00000000000000000000000")
        self.assertEqual((status, data), (404, {"error": "HTTP/2 connection not found"}))
        self.assertIsNone(self.rpc("http2/get_stream_ids",
                                   {"connectionId": "01J00000000000000000000000"}))


if __name__ == "__main__":
    unittest.main()
