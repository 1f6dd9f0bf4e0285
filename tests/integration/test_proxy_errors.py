"""Upstream failures become synthetic responses; bad clients get 400/431; the daemon lives on."""

import http.client
import time
import unittest

from harklib import (HttpOrigin, RawOrigin, Reader, connect, free_port, read_message,
                     start_hark)

HUGE_HEADER = 70 * 1024


class ProxyErrorsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.hark = start_hark(["--upstream-timeout", "1"])
        cls.addClassCleanup(cls.hark.kill9)
        cls.origin = HttpOrigin()
        cls.addClassCleanup(cls.origin.close)

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def proxy_get(self, url, timeout=15):
        """GET `url` through the proxy; returns (status, headers, body, seconds)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.hark.proxy_port, timeout=timeout)
        started = time.monotonic()
        try:
            conn.request("GET", url)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, resp.headers, body, time.monotonic() - started
        finally:
            conn.close()

    def assert_still_serving(self):
        url = self.origin.url("/hello?after=%f" % time.monotonic())
        status, _, body, _ = self.proxy_get(url)
        self.assertEqual((status, body), (200, b"hello"), "the proxy stopped serving")
        self.assertTrue(self.hark.alive())

    def assert_synthetic(self, url, status, code, body_prefix, max_seconds=10):
        got, headers, body, seconds = self.proxy_get(url)
        self.assertEqual(got, status, body)
        self.assertEqual(headers["X-Hark-Error"], code)
        self.assertIn("text/plain", headers["Content-Type"])
        self.assertTrue(body.decode().startswith(body_prefix), body)
        self.assertLess(seconds, max_seconds)
        entry = self.hark.wait_for_entry(url)
        self.assertEqual(entry["error"]["code"], code)
        self.assertIn(body_prefix, entry["error"]["message"])
        self.assert_still_serving()
        return seconds, body

    def test_connect_refused_is_502(self):
        port = free_port()
        self.assert_synthetic("http://127.0.0.1:%d/refused" % port, 502, "connect_failed",
                              "hark: cannot connect to 127.0.0.1:%d" % port)

    def test_unresolvable_host_is_502(self):
        self.assert_synthetic("http://nonexistent.invalid/", 502, "dns_failed",
                              "hark: cannot resolve nonexistent.invalid")

    def test_silent_upstream_is_504(self):
        origin = RawOrigin(lambda req: None)  # reads the request, never answers
        self.addCleanup(origin.close)
        seconds, body = self.assert_synthetic(
            origin.url("/silent"), 504, "upstream_timeout",
            "hark: 127.0.0.1:%d did not answer within 1 s" % origin.port, max_seconds=3)
        self.assertGreaterEqual(seconds, 0.9, "answered before the deadline: %r" % body)

    def test_upstream_closing_mid_response_closes_client(self):
        origin = RawOrigin(lambda req: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                                        b"Connection: close\r\n\r\n" + b"x" * 10))
        self.addCleanup(origin.close)
        url = origin.url("/cut")
        with connect(self.hark.proxy_port) as sock:
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                         % (url.encode(), origin.port))
            reader = Reader(sock)
            with self.assertRaises(EOFError, msg="the client must see the response cut short"):
                read_message(reader, response=True)
        entry = self.hark.wait_for_entry(url)
        self.assertEqual(entry["error"]["code"], "upstream_reset")
        self.assertEqual(entry["response"]["statusCode"], 200)
        self.assert_still_serving()

    def bad_client(self, data):
        """Sends `data`, reads the response; asserts the proxy closes the connection after it."""
        with connect(self.hark.proxy_port) as sock:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the proxy may answer before it has read everything
            reader = Reader(sock)
            resp = read_message(reader, response=True)
            self.assertIsNotNone(resp, "connection closed without a response")
            try:
                rest = reader.read_to_eof()
            except ConnectionResetError:
                rest = b""
            self.assertEqual(rest, b"", "the proxy should close after a bad request")
        return resp

    def test_malformed_request_line_is_400(self):
        resp = self.bad_client(b"THIS IS NOT HTTP AT ALL\r\n\r\n")
        self.assertEqual(resp.status, 400)
        self.assert_still_serving()

    def test_malformed_header_is_400(self):
        host = "127.0.0.1:%d" % self.origin.port
        resp = self.bad_client(b"GET http://%s/ HTTP/1.1\r\nHost: %s\r\nno colon here\r\n\r\n"
                               % (host.encode(), host.encode()))
        self.assertEqual(resp.status, 400)
        self.assert_still_serving()

    def test_huge_header_is_431(self):
        host = ("127.0.0.1:%d" % self.origin.port).encode()
        resp = self.bad_client(b"GET http://%s/huge HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n"
                               % (host, host, b"a" * HUGE_HEADER))
        self.assertEqual(resp.status, 431)
        self.assertEqual([r for r in self.origin.requests if r[1] == "/huge"], [])
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main()
