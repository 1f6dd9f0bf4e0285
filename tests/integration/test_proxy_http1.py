"""HTTP/1.1 forwarding: faithful headers, framing, streaming, tunnels and what gets recorded."""

import gzip
import hashlib
import json
import os
import subprocess
import time
import unittest

from harklib import (GZIP_TEXT, ISO_RE, ULID_RE, HarkTestCase, HttpOrigin, RawClient, clean_env,
                     curl, is_sanitized_build, make_temp_dir, pattern_chunks, pattern_sha256,
                     peak_rss_bytes, raw_exchange, start_hark)

MIB = 1024 * 1024


class ProxyHttp1Test(HarkTestCase):

    @classmethod
    def setUpClass(cls):
        cls.hark = start_hark()
        cls.addClassCleanup(cls.hark.kill9)
        cls.origin = HttpOrigin()
        cls.addClassCleanup(cls.origin.close)

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def curl(self, args, **kwargs):
        result = curl(args, self.hark.proxy_port, **kwargs)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    # -- basic forwarding and the entry model ---------------------------------------------------

    def test_get_recorded_entry(self):
        url = self.origin.url("/hello?case=get")
        self.assertEqual(self.curl([url]).stdout, b"hello")
        e = self.hark.wait_for_entry(url)

        self.assertRegex(e["id"], ULID_RE)
        self.assertEqual(e["sessionId"], self.hark.active_session()["id"])
        self.assertEqual(e["httpVersion"], "HTTP/1.1")
        self.assertEqual(e["transactionType"], "request")
        self.assertIs(e["isWebSocket"], False)
        self.assertIsNone(e["http2"])
        self.assertIsNone(e["error"])
        self.assertEqual(e["tls"], {"connectionId": None, "tlsVersion": None, "cipherSuite": None,
                                    "ja3": None, "ja4": None})

        req = e["request"]
        self.assertEqual(req["method"], "GET")
        self.assertEqual(req["path"], "/hello?case=get")
        self.assertEqual(req["httpVersion"], "HTTP/1.1")
        self.assertIn(req["bodySize"], (0, None))
        self.assertTrue(all(isinstance(h, list) and len(h) == 2 for h in req["headers"]))
        names = [h[0] for h in req["headers"]]
        self.assertEqual([n for n in names if n in ("Host", "User-Agent", "Accept")],
                         ["Host", "User-Agent", "Accept"])
        self.assertIn(["Host", "127.0.0.1:%d" % self.origin.port], req["headers"])

        resp = e["response"]
        self.assertEqual(resp["statusCode"], 200)
        self.assertEqual(resp["statusText"], "OK")
        self.assertEqual(resp["httpVersion"], "HTTP/1.1")
        self.assertEqual(resp["bodySize"], 5)
        self.assertIs(resp["bodyTruncated"], False)
        self.assertEqual([h[0] for h in resp["headers"]],
                         ["Server", "Date", "Content-Type", "Content-Length"])
        self.assertIn(["Content-Length", "5"], resp["headers"])

        self.assertRegex(e["timings"]["startedAt"], ISO_RE)
        for key in ("blocked", "dns", "connect", "send", "wait", "receive", "ssl"):
            self.assertIn(key, e["timings"])
        self.assertIsInstance(e["timings"]["wait"], (int, float))
        self.assertEqual(e["clientAddr"]["ip"], "127.0.0.1")
        self.assertIsInstance(e["clientAddr"]["port"], int)
        self.assertEqual(e["remoteAddr"], {"ip": "127.0.0.1", "port": self.origin.port})

    def test_process_of_local_client(self):
        # This test process is the client: it is alive while Hark looks it up in /proc.
        url = self.origin.url("/hello?case=process")
        host = "127.0.0.1:%d" % self.origin.port
        with RawClient(self.hark.proxy_port) as client:
            client.send(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (url, host)).encode())
            self.assertEqual(client.response().body, b"hello")
            e = self.hark.wait_for_entry(url)
        self.assertIsNotNone(e["process"], "process of a local client should be resolved")
        self.assertEqual(e["process"]["pid"], os.getpid())
        with open("/proc/self/comm") as f:
            self.assertEqual(e["process"]["name"], f.read().strip())

    def test_post_echo_and_body_endpoints(self):
        body = bytes(range(256)) * 4
        url = self.origin.url("/echo?case=post")
        out = self.curl(["--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                         url], input=body).stdout
        self.assertEqual(out, body)
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["request"]["method"], "POST")
        self.assertEqual(e["request"]["bodySize"], len(body))
        self.assertEqual(e["response"]["bodySize"], len(body))
        base = "/api/sessions/active/entries/%s" % e["id"]
        for side in ("request", "response"):
            status, headers, data = self.hark.api("GET", base + "/%s/body" % side)
            self.assertEqual(status, 200, data)
            self.assertEqual(data, body, side)
            self.assertEqual(headers["Content-Type"], "application/octet-stream")

    def test_gzip_body_decoded_by_api_raw_on_request(self):
        url = self.origin.url("/gzip")
        raw = self.curl([url]).stdout  # no --compressed: the client gets the bytes as sent
        self.assertEqual(gzip.decompress(raw), GZIP_TEXT)
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["response"]["bodySize"], len(raw))
        base = "/api/sessions/%s/entries/%s/response/body" % (e["sessionId"], e["id"])
        status, headers, data = self.hark.api("GET", base)
        self.assertEqual((status, data), (200, GZIP_TEXT))
        self.assertEqual(headers["Content-Type"], "text/plain; charset=utf-8")
        status, _, data = self.hark.api("GET", base + "?raw=1")
        self.assertEqual((status, data), (200, raw))

    # -- faithful forwarding --------------------------------------------------------------------

    def test_header_order_case_and_hop_by_hop(self):
        origin = self.start_raw_origin(lambda req: (
            b"HTTP/1.1 200 OK\r\nx-resp-b: 1\r\nX-Resp-A: 2\r\nKeep-Alive: timeout=5\r\n"
            b"Connection: keep-alive, X-Resp-Hop\r\nX-Resp-Hop: gone\r\n"
            b"Content-Length: 2\r\n\r\nok"))
        host = "127.0.0.1:%d" % origin.port
        request = ("GET http://%s/order HTTP/1.1\r\nHost: %s\r\nX-B: 1\r\nx-a: 2\r\nX-Dup: 1\r\n"
                   "Connection: keep-alive, X-Remove-Me\r\nX-Remove-Me: secret\r\n"
                   "Proxy-Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Dup: 2\r\n\r\n"
                   % (host, host)).encode()
        resp = raw_exchange(self.hark.proxy_port, request)

        got = origin.wait_for_requests(1)[0]
        self.assertEqual(got.start_line, "GET /order HTTP/1.1")
        forwarded = [(k, v) for k, v in got.headers if k.lower() != "connection"]
        self.assertEqual(forwarded, [("Host", host), ("X-B", "1"), ("x-a", "2"), ("X-Dup", "1"),
                                     ("X-Dup", "2")])
        for name in ("Via", "X-Remove-Me", "Proxy-Connection", "Keep-Alive"):
            self.assertIsNone(got.header(name), name)

        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"ok")
        names = [k for k in resp.header_names() if k.lower() not in ("connection", "content-length")]
        self.assertEqual(names, ["x-resp-b", "X-Resp-A"])
        for name in ("Via", "Keep-Alive", "X-Resp-Hop"):
            self.assertIsNone(resp.header(name), name)

        # Recorded as the client and the origin sent them, hop-by-hop headers included.
        e = self.hark.wait_for_entry("http://%s/order" % host)
        self.assertEqual(e["request"]["headers"], [
            ["Host", host], ["X-B", "1"], ["x-a", "2"], ["X-Dup", "1"],
            ["Connection", "keep-alive, X-Remove-Me"], ["X-Remove-Me", "secret"],
            ["Proxy-Connection", "keep-alive"], ["Keep-Alive", "timeout=5"], ["X-Dup", "2"]])
        self.assertEqual(e["response"]["headers"], [
            ["x-resp-b", "1"], ["X-Resp-A", "2"], ["Keep-Alive", "timeout=5"],
            ["Connection", "keep-alive, X-Resp-Hop"], ["X-Resp-Hop", "gone"],
            ["Content-Length", "2"]])

    def test_chunked_request_and_response_with_trailers(self):
        origin = self.start_raw_origin(lambda req: (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Resp-Trailer\r\n\r\n"
            b"3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Resp-Trailer: xyz\r\n\r\n"))
        host = "127.0.0.1:%d" % origin.port
        request = ("POST http://%s/chunked HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n"
                   "Trailer: X-Checksum\r\nTE: trailers\r\n\r\n"
                   "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"
                   % (host, host)).encode()
        resp = raw_exchange(self.hark.proxy_port, request)

        got = origin.wait_for_requests(1)[0]
        self.assertTrue(got.chunked)
        self.assertEqual(got.body, b"hello world")
        self.assertEqual(got.trailers, [("X-Checksum", "abc")])
        self.assertEqual(got.header("TE"), "trailers")

        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.chunked)
        self.assertEqual(resp.body, b"abcdefg")
        self.assertEqual(resp.trailers, [("X-Resp-Trailer", "xyz")])

        e = self.hark.wait_for_entry("http://%s/chunked" % host)
        self.assertEqual(e["request"]["bodySize"], 11)
        self.assertEqual(e["response"]["bodySize"], 7)

    def test_keep_alive_two_requests_one_connection(self):
        host = "127.0.0.1:%d" % self.origin.port
        with RawClient(self.hark.proxy_port) as client:
            for i in (1, 2):
                client.send(("GET http://%s/hello?keepalive=%d HTTP/1.1\r\nHost: %s\r\n\r\n"
                             % (host, i, host)).encode())
                resp = client.response()
                self.assertEqual((resp.status, resp.body), (200, b"hello"), i)
        first = self.hark.wait_for_entry(self.origin.url("/hello?keepalive=1"))
        second = self.hark.wait_for_entry(self.origin.url("/hello?keepalive=2"))
        self.assertEqual(first["clientAddr"], second["clientAddr"])
        self.assertNotEqual(first["id"], second["id"])

    def test_close_delimited_response(self):
        origin = self.start_raw_origin(lambda req: (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            b"until the end"))
        url = origin.url("/close-delimited")
        self.assertEqual(self.curl([url]).stdout, b"until the end")
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["response"]["bodySize"], len(b"until the end"))

    def test_expect_100_continue(self):
        host = "127.0.0.1:%d" % self.origin.port
        body = b"sent after 100 Continue"
        with RawClient(self.hark.proxy_port) as client:
            client.send(("POST http://%s/echo?case=expect HTTP/1.1\r\nHost: %s\r\n"
                         "Content-Type: text/plain\r\nContent-Length: %d\r\n"
                         "Expect: 100-continue\r\n\r\n" % (host, host, len(body))).encode())
            client.sock.settimeout(3)
            interim = client.response()
            self.assertEqual(interim.status, 100, "the origin's 100 Continue was not relayed")
            client.send(body)
            final = client.response()
        self.assertEqual((final.status, final.body), (200, body))

    def test_http10_client(self):
        host = "127.0.0.1:%d" % self.origin.port
        resp = raw_exchange(self.hark.proxy_port, (
            "GET http://%s/hello?case=http10 HTTP/1.0\r\nHost: %s\r\n\r\n"
            % (host, host)).encode())
        self.assertEqual((resp.status, resp.body), (200, b"hello"))
        self.assertFalse(resp.chunked, "an HTTP/1.0 client cannot read chunked")
        e = self.hark.wait_for_entry(self.origin.url("/hello?case=http10"))
        self.assertEqual(e["httpVersion"], "HTTP/1.0")

    def test_head_and_bodiless_statuses(self):
        url = self.origin.url("/hello?case=head")
        result = self.curl(["--head", "--max-time", "5", url])
        self.assertIn(b"Content-Length: 5", result.stdout)
        for code in (204, 304):
            origin = self.start_raw_origin(lambda req, code=code: (
                b"HTTP/1.1 %d Nothing\r\nX-Code: %d\r\n\r\n" % (code, code)))
            host = "127.0.0.1:%d" % origin.port
            with RawClient(self.hark.proxy_port, timeout=5) as client:
                for i in (1, 2):  # the second request proves the first ended where it should
                    client.send(("GET http://%s/nothing-%d HTTP/1.1\r\nHost: %s\r\n\r\n"
                                 % (host, i, host)).encode())
                    resp = client.response()
                    self.assertEqual((resp.status, resp.body), (code, b""))

    def test_upstream_connection_reused_across_clients(self):
        # One worker thread, so one pool: every client connection may reuse the same upstream.
        hark = self.start_hark(["--workers", "1"])
        origin = self.start_raw_origin()
        for i in range(3):
            result = curl([origin.url("/pooled-%d" % i)], hark.proxy_port)
            self.assertEqual(result.stdout, b"ok", result.stderr)
        origin.wait_for_requests(3)
        self.assertEqual(origin.connections, 1, "upstream connections should be pooled")

    # -- large bodies and streaming -------------------------------------------------------------

    def test_64mib_download_streamed_and_capture_capped(self):
        size = 64 * MIB
        url = self.origin.url("/bytes?n=%d" % size)
        h = hashlib.sha256()
        total = 0
        with subprocess.Popen(["curl", "--silent", "--show-error", "--noproxy", "", "-x",
                               self.hark.proxy_url, url], stdout=subprocess.PIPE,
                              env=clean_env()) as proc:
            for piece in iter(lambda: proc.stdout.read(1 << 20), b""):
                h.update(piece)
                total += len(piece)
            self.assertEqual(proc.wait(timeout=120), 0)
        self.assertEqual(total, size)
        self.assertEqual(h.hexdigest(), pattern_sha256(size))
        e = self.hark.wait_for_entry(url, timeout=10)
        self.assertEqual(e["response"]["bodySize"], size)
        self.assertIs(e["response"]["bodyTruncated"], True)

    def test_64mib_upload_streamed_and_capture_capped(self):
        size = 64 * MIB
        path = os.path.join(make_temp_dir(), "upload.bin")
        with open(path, "wb") as f:
            for piece in pattern_chunks(size):
                f.write(piece)
        url = self.origin.url("/upload?case=64mib")
        out = self.curl(["-X", "POST", "-T", path, url], timeout=120).stdout
        os.unlink(path)
        self.assertEqual(json.loads(out), {"size": size, "sha256": pattern_sha256(size)})
        e = self.hark.wait_for_entry(url, timeout=10)
        self.assertEqual(e["request"]["bodySize"], size)
        self.assertIs(e["request"]["bodyTruncated"], True)

    def test_large_download_memory_is_bounded(self):
        if is_sanitized_build():
            self.skipTest("ASan's allocator quarantine makes RSS meaningless here")
        hark = self.start_hark()
        size = 128 * MIB
        result = curl(["-o", "/dev/null", "-w", "%{size_download}",
                       self.origin.url("/bytes?n=%d" % size)], hark.proxy_port, timeout=120)
        self.assertEqual(result.stdout, str(size).encode(), result.stderr)
        peak = peak_rss_bytes(hark.process.pid)
        self.assertLess(peak, 64 * MIB, "peak RSS %.1f MiB: bodies must be streamed, not held"
                        % (peak / MIB))

    def test_server_sent_events_arrive_as_sent(self):
        host = "127.0.0.1:%d" % self.origin.port
        with RawClient(self.hark.proxy_port) as client:
            started = time.monotonic()
            client.send(("GET http://%s/sse HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
                         "\r\n" % (host, host)).encode())
            seen = b""
            first_at = None
            while b"data: two" not in seen and time.monotonic() - started < 10:
                data = client.sock.recv(65536)
                if not data:
                    break
                seen += data
                if first_at is None and b"data: one" in seen:
                    first_at = time.monotonic() - started
            self.assertIsNotNone(first_at, seen)
            self.assertLess(first_at, 1.0, "the first event was held back by the proxy")
            self.assertIn(b"data: two", seen)

    # -- other ways in --------------------------------------------------------------------------

    def test_connect_tunnel_with_plaintext_http(self):
        url = self.origin.url("/hello?case=tunnel")
        result = self.curl(["--proxytunnel", "-v", url])
        self.assertEqual(result.stdout, b"hello")
        self.assertIn(b"CONNECT 127.0.0.1:%d" % self.origin.port, result.stderr)
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["request"]["method"], "GET")
        self.assertEqual(e["response"]["statusCode"], 200)
        connects = [x for x in self.hark.entries() if x["request"]["method"] == "CONNECT"]
        self.assertEqual(connects, [], "a CONNECT is not an entry itself")

    def test_origin_form_serves_onboarding_page(self):
        port = self.hark.proxy_port
        resp = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
        self.assertEqual(resp.status, 200)
        self.assertIn("text/html", resp.header("Content-Type"))
        self.assertIn(b"Hark", resp.body)
        self.assertIn(b"/ca.pem", resp.body)
        resp = raw_exchange(port, b"GET /ca.pem HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
        self.assertEqual(resp.status, 200)
        self.assertIn(b"-----BEGIN CERTIFICATE-----", resp.body)


if __name__ == "__main__":
    unittest.main()
