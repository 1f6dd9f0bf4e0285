"""HTTP/2 through Hark (SPEC §4): h2 on both sides of an intercepted connection with real
clients (curl, Node's http2, gRPC, headless Chromium) and a real Node HTTP/2 origin; h2c prior
knowledge inside CONNECT translated to an HTTP/1.1 origin; trailers, RST_STREAM both ways, 100
concurrent streams on one connection, a large download, an h1-only client meeting an h2-only
origin; server push recorded and forwarded to clients that allow it; WebSocket over HTTP/2
(RFC 8441 extended CONNECT) relayed with its messages recorded (SPEC §5)."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
import unittest

from harklib import (HttpOrigin, clean_env, curl, missing, shared_test_pki, start_hark)

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "h2_peer.js")
GRPC_PEER = os.path.join(HERE, "grpc_peer.js")
WS_PEER = os.path.join(HERE, "h2_ws_peer.js")


class NodeOrigin:
    """h2_peer.js origin: a TLS HTTP/2 origin on a free port."""

    def __init__(self, cert, key, h2only=False):
        args = ["node", PEER, "origin", cert, key] + (["h2only"] if h2only else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=clean_env(), text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def events(self):
        """The event lines printed so far (non-blocking is not needed: read after close)."""
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def pattern_sha256(n):
    chunk = bytes(i % 251 for i in range(65536))
    h = hashlib.sha256()
    while n > 0:
        piece = chunk[:min(n, len(chunk))]
        h.update(piece)
        n -= len(piece)
    return h.hexdigest()


class NodeOriginCase(unittest.TestCase):
    """A Hark that trusts the test PKI and a Node HTTP/2 origin, for the class's tests."""

    hark_args = []  # more arguments for the class's Hark

    @classmethod
    def setUpClass(cls):
        for tool in ("node", "curl"):
            if shutil.which(tool) is None:
                raise missing(tool + " is not installed")
        cls.pki = shared_test_pki()
        cls.origin = NodeOrigin(cls.pki.localhost_pem, cls.pki.localhost_key)
        cls.addClassCleanup(cls.origin.close)
        cls.hark = start_hark(["--upstream-ca", cls.pki.ca_pem] + cls.hark_args)
        cls.addClassCleanup(cls.hark.kill9)
        cls.ca = os.path.join(cls.hark.data_dir, "ca", "ca.pem")


class Http2Test(NodeOriginCase):

    def node_client(self, plan, origin_port=None, push=True):
        port = origin_port or self.origin.port
        result = subprocess.run(["node", PEER, "client", str(self.hark.proxy_port),
                                 "localhost:%d" % port, self.ca, json.dumps(plan)]
                                + ([] if push else ["nopush"]),
                                capture_output=True, text=True, timeout=120, env=clean_env())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def entry(self, url, timeout=20.0):
        """The newest entry with exactly this URL (the session holds hundreds of entries). The
        indexer runs at nice 19: on a machine the other tests saturate it may lag seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.hark.entries(query="order=desc&limit=1000"):
                if e["url"] == url:
                    return e
            if time.monotonic() > deadline:
                raise AssertionError("no entry for " + url)
            time.sleep(0.05)

    def test_one_shot_h2_clients_are_each_attributed_to_their_process(self):
        urls = ["https://localhost:%d/echo?oneshot=%d" % (self.origin.port, i) for i in range(10)]
        for url in urls:
            result = curl(["--http2", "--cacert", self.ca, "-o", "/dev/null", url],
                          self.hark.proxy_port)
            self.assertEqual(result.returncode, 0, result.stderr)
        pids = set()
        for url in urls:
            e = self.entry(url)
            self.assertEqual(e["httpVersion"], "HTTP/2")
            self.assertIsNotNone(e["process"], url)
            self.assertEqual(e["process"]["name"], "curl", url)
            pids.add(e["process"]["pid"])
        self.assertEqual(len(pids), len(urls))  # one process each

    def test_curl_http2_is_h2_on_both_sides_and_recorded_as_http2(self):
        url = "https://localhost:%d/echo?curl" % self.origin.port
        result = curl(["--http2", "--cacert", self.ca, "-w", " %{http_version}", url],
                      self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith(b"GET /echo?curl 0 "), result.stdout)
        self.assertTrue(result.stdout.endswith(b" 2"), result.stdout)
        e = self.entry(url)
        self.assertEqual(e["httpVersion"], "HTTP/2")
        self.assertEqual(e["upstreamHttpVersion"], "HTTP/2")
        self.assertEqual(e["request"]["headers"][0], [":method", "GET"])
        self.assertEqual([h[0] for h in e["request"]["headers"][:4]],
                         [":method", ":path", ":scheme", ":authority"])
        self.assertEqual(e["response"]["headers"][0], [":status", "200"])
        self.assertEqual(e["response"]["statusCode"], 200)
        self.assertEqual(e["http2"]["streamId"], 1)
        self.assertTrue(e["http2"]["connectionId"])
        self.assertTrue(e["upstreamHttp2"]["connectionId"])
        self.assertNotEqual(e["upstreamHttp2"]["connectionId"], e["http2"]["connectionId"])
        self.assertIsNone(e["error"])
        # The frame log of both connections (SPEC §4, §6.5), once the connection ended.
        client_id = e["http2"]["connectionId"]
        deadline = time.monotonic() + 5
        while True:
            status, _, streams = self.hark.api("GET", "/api/http2/" + client_id)
            if status == 200 and 1 in streams:
                break
            self.assertLess(time.monotonic(), deadline, (status, streams))
            time.sleep(0.1)
        self.assertEqual(streams[0], 0)
        status, _, frames = self.hark.api("GET", "/api/http2/%s/streams/1" % client_id)
        self.assertEqual(status, 200)
        types = [(f["side"], f["type"]) for f in frames]
        self.assertEqual(types[0], ("client", "headers"))
        self.assertIn(("server", "headers"), types)
        self.assertIn(("server", "data"), types)
        # The upstream connection stays open (pooled): its frames are published when it idles.
        upstream_id = e["upstreamHttp2"]["connectionId"]
        deadline = time.monotonic() + 5
        while True:
            status, _, upstream_streams = self.hark.api("GET", "/api/http2/" + upstream_id)
            if status == 200 and e["upstreamHttp2"]["streamId"] in upstream_streams:
                break
            self.assertLess(time.monotonic(), deadline, (status, upstream_streams))
            time.sleep(0.1)

    def test_hundred_concurrent_streams_on_one_connection(self):
        plan = [{"path": "/echo?many=%d" % i, "method": "POST", "body": i * 10} for i in range(100)]
        out = self.node_client(plan)
        self.assertEqual(out["alpn"], "h2")
        bodies = set()
        for r in out["results"]:
            self.assertEqual(r["status"], 200, r)
            self.assertIsNone(r["error"], r)
            bodies.add(r["sha256"])
        self.assertEqual(len(bodies), 100)  # each stream got its own answer
        entries = self.hark.wait_for_entries(100, query="q=many&limit=1000")
        mine = [e for e in entries if "many=" in e["url"]]
        self.assertEqual(len(mine), 100)
        self.assertEqual(len({e["http2"]["connectionId"] for e in mine}), 1)
        self.assertEqual(len({e["http2"]["streamId"] for e in mine}), 100)
        by_path = {e["request"]["path"]: e for e in mine}
        self.assertEqual(by_path["/echo?many=7"]["request"]["bodySize"], 70)

    def test_trailers_are_relayed_and_recorded(self):
        out = self.node_client([{"path": "/trailers"}])
        r = out["results"][0]
        self.assertEqual(r["status"], 200)
        self.assertEqual(r["trailers"], {"grpc-status": "0", "grpc-message": "ok"})
        e = self.entry("https://localhost:%d/trailers" % self.origin.port)
        self.assertEqual(e["response"]["trailers"], [["grpc-status", "0"], ["grpc-message", "ok"]])

    def test_origin_reset_reaches_the_client_with_its_code(self):
        out = self.node_client([{"path": "/reset?code=11"}])
        r = out["results"][0]
        self.assertEqual(r["rstCode"], 11)  # ENHANCE_YOUR_CALM, as the origin sent it
        e = self.entry("https://localhost:%d/reset?code=11" % self.origin.port)
        self.assertEqual(e["error"]["code"], "upstream_reset")
        self.assertIn("ENHANCE_YOUR_CALM", e["error"]["message"])

    def test_client_reset_reaches_the_origin(self):
        origin = NodeOrigin(self.pki.localhost_pem, self.pki.localhost_key)
        self.addCleanup(origin.close)
        out = self.node_client([{"path": "/slow", "cancelAfterMs": 300}], origin.port)
        self.assertEqual(out["results"][0]["rstCode"], 8)
        e = self.entry("https://localhost:%d/slow" % origin.port)
        self.assertEqual(e["error"]["code"], "client_reset")
        self.assertIn({"reset": "/slow", "code": 8}, origin.events())

    def pushed_entries(self, count, timeout=5.0):
        """The newest `count` entries whose URL is the pushed one, newest first."""
        url = "https://localhost:%d/pushed.css" % self.origin.port
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.hark.entries(query="order=desc&limit=1000")
                     if e["url"] == url]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def test_a_push_reaches_a_client_that_allows_push_and_is_recorded(self):
        out = self.node_client([{"path": "/push?allowed"}])
        self.assertEqual(out["results"][0]["status"], 200)
        self.assertEqual(out["pushes"], [{"path": "/pushed.css", "status": 200,
                                          "body": "body { color: rebeccapurple }"}])
        parent = self.entry("https://localhost:%d/push?allowed" % self.origin.port)
        self.assertEqual(parent["transactionType"], "request")
        pushed = self.pushed_entries(1)[0]
        self.assertEqual(pushed["transactionType"], "push_promise")
        self.assertEqual(pushed["httpVersion"], "HTTP/2")
        self.assertEqual(pushed["request"]["method"], "GET")
        self.assertIn([":path", "/pushed.css"], pushed["request"]["headers"])
        self.assertEqual(pushed["response"]["statusCode"], 200)
        self.assertIn(["x-pushed", "yes"], pushed["response"]["headers"])
        self.assertEqual(pushed["response"]["bodySize"], len("body { color: rebeccapurple }"))
        self.assertIsNone(pushed["error"])
        # The promised streams: even ids, on the client's connection and on the upstream one.
        self.assertEqual(pushed["http2"]["connectionId"], parent["http2"]["connectionId"])
        self.assertEqual(pushed["http2"]["streamId"] % 2, 0)
        self.assertNotEqual(pushed["http2"]["streamId"], 0)
        self.assertEqual(pushed["upstreamHttp2"]["connectionId"],
                         parent["upstreamHttp2"]["connectionId"])
        self.assertEqual(pushed["upstreamHttp2"]["streamId"] % 2, 0)
        # Both frame logs hold the PUSH_PROMISE on the parent stream, naming the promised one.
        self.assertEqual(self.promised_in_frame_log(parent["http2"]),
                         pushed["http2"]["streamId"])
        self.assertEqual(self.promised_in_frame_log(parent["upstreamHttp2"]),
                         pushed["upstreamHttp2"]["streamId"])

    def promised_in_frame_log(self, ref, timeout=5.0):
        """promisedStreamId of the first push_promise the server sent on stream `ref`."""
        path = "/api/http2/%s/streams/%d" % (ref["connectionId"], ref["streamId"])
        deadline = time.monotonic() + timeout
        while True:
            status, _, frames = self.hark.api("GET", path)
            promises = [f["promisedStreamId"] for f in (frames if status == 200 else [])
                        if f["side"] == "server" and f["type"] == "push_promise"]
            if promises:
                return promises[0]
            self.assertLess(time.monotonic(), deadline, (status, frames))
            time.sleep(0.1)

    def test_a_push_is_recorded_but_not_forwarded_to_a_client_that_disabled_push(self):
        before = len(self.pushed_entries(0, timeout=0))
        out = self.node_client([{"path": "/push?disabled"}], push=False)
        self.assertEqual(out["results"][0]["status"], 200)
        self.assertEqual(out["pushes"], [])
        pushed = self.pushed_entries(before + 1)
        self.assertEqual(len(pushed), before + 1)
        pushed = pushed[0]
        self.assertEqual(pushed["transactionType"], "push_promise")
        self.assertEqual(pushed["response"]["statusCode"], 200)
        self.assertEqual(pushed["response"]["bodySize"], len("body { color: rebeccapurple }"))
        self.assertIsNone(pushed["error"])
        self.assertEqual(pushed["http2"]["streamId"], 0)  # no client stream was promised
        self.assertEqual(pushed["upstreamHttp2"]["streamId"] % 2, 0)

    def test_large_download_streams_intact(self):
        size = 64 << 20
        url = "https://localhost:%d/bytes?n=%d" % (self.origin.port, size)
        result = curl(["--http2", "--cacert", self.ca, url], self.hark.proxy_port, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stdout), size)
        self.assertEqual(hashlib.sha256(result.stdout).hexdigest(), pattern_sha256(size))

    def test_a_node_client_sees_the_download_end(self):
        # Node's origin ends the stream with an empty DATA frame; a Node client (64 KiB windows)
        # waits for that END_STREAM after the last byte.
        size = 16 << 20
        for _ in range(2):  # the second one over the shared upstream connection
            r = self.node_client([{"path": "/bytes?n=%d" % size}])["results"][0]
            self.assertEqual(r["bodyLength"], size)
            self.assertEqual(r["sha256"], pattern_sha256(size))
            self.assertEqual(r["rstCode"], 0)

    def test_a_stream_whose_origin_stops_sending_ends_after_the_upstream_timeout(self):
        hark = start_hark(["--upstream-ca", self.pki.ca_pem, "--upstream-timeout", "1"])
        self.addCleanup(hark.kill9)
        ca = os.path.join(hark.data_dir, "ca", "ca.pem")
        started = time.monotonic()
        result = subprocess.run(["node", PEER, "client", str(hark.proxy_port),
                                 "localhost:%d" % self.origin.port, ca,
                                 json.dumps([{"path": "/stall"}, {"path": "/echo?beside"}])],
                                capture_output=True, text=True, timeout=60, env=clean_env())
        elapsed = time.monotonic() - started
        out = json.loads(result.stdout)["results"]
        self.assertEqual(out[0]["bodyLength"], 1)
        self.assertEqual(out[0]["rstCode"], 8)  # CANCEL, after the 1 s of silence
        self.assertEqual(out[1]["status"], 200)  # the other stream was not affected
        self.assertLess(elapsed, 10)
        url = "https://localhost:%d/stall" % self.origin.port
        deadline = time.monotonic() + 5
        while True:
            found = [e for e in hark.entries() if e["url"] == url]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(found[0]["error"]["code"], "upstream_timeout")

    def test_h2c_prior_knowledge_inside_connect_is_translated_to_http11(self):
        origin = HttpOrigin()
        self.addCleanup(origin.close)
        url = origin.url("/hello?case=h2c")
        result = curl(["-p", "--http2-prior-knowledge", "-w", " %{http_version}", url],
                      self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.endswith(b" 2"), result.stdout)
        e = self.entry(url)
        self.assertEqual(e["httpVersion"], "HTTP/2")
        self.assertEqual(e["upstreamHttpVersion"], "HTTP/1.1")
        self.assertIsNone(e["upstreamHttp2"])
        method, path, headers, _, _ = origin.requests[-1]
        self.assertEqual((method, path), ("GET", "/hello?case=h2c"))
        self.assertEqual(dict(headers).get("Host"), "127.0.0.1:%d" % origin.port)

    def test_http11_only_client_and_h2_only_origin_meet_as_without_hark(self):
        """A client that offers only http/1.1 reaches an h2-only origin as it would directly.
        Node 20 and later refuse such a handshake (no_application_protocol): through Hark that
        is a 502 naming the mismatch, never a hang. Node 18 (Debian 12's) completes it without
        ALPN and answers 403 itself: through Hark the client gets that same answer."""
        origin = NodeOrigin(self.pki.localhost_pem, self.pki.localhost_key, h2only=True)
        self.addCleanup(origin.close)
        url = "https://localhost:%d/echo" % origin.port
        direct = curl(["--http1.1", "--cacert", self.pki.ca_pem, "-w", " %{http_code}", url])
        result = curl(["--http1.1", "--cacert", self.ca, "-w", " %{http_code}", url],
                      self.hark.proxy_port)
        e = self.entry(url)
        if direct.returncode != 0:  # the origin refused the handshake
            self.assertTrue(result.stdout.endswith(b" 502"), result.stdout)
            self.assertIn(b"accepts none of the protocols the client offered (http/1.1)",
                          result.stdout)
            self.assertEqual(e["error"]["code"], "alpn_mismatch")
        else:
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, direct.stdout)
            self.assertEqual(e["response"]["statusCode"], int(direct.stdout.split()[-1]))


class WsOrigin:
    """h2_ws_peer.js origin: an HTTP/2 WebSocket echo origin (RFC 8441) on a free port."""

    def __init__(self, cert, key, connect_protocol=True):
        args = ["node", WS_PEER, "origin", cert, key] + ([] if connect_protocol else ["noconnect"])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=clean_env(), text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class ExtendedConnectTest(NodeOriginCase):
    """WebSocket over HTTP/2 (RFC 8441) through Hark: the extended CONNECT goes on to the origin
    over its HTTP/2 connection, the frames are relayed both ways and recorded as messages."""

    # One worker, one pool: a second client connection meets the first one's upstream connection.
    hark_args = ["--workers", "1"]

    def ws_client(self, hark, port, path, deflate=False):
        ca = os.path.join(hark.data_dir, "ca", "ca.pem")
        result = subprocess.run(["node", WS_PEER, "client", str(hark.proxy_port),
                                 "localhost:%d" % port, ca, path] + (["deflate"] if deflate else []),
                                capture_output=True, text=True, timeout=60, env=clean_env())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def test_websocket_over_h2_is_relayed_and_its_messages_recorded(self):
        self.check_websocket_over_h2("/chat?room=1", deflate=False)

    def test_websocket_over_h2_with_permessage_deflate_is_recorded_inflated(self):
        self.check_websocket_over_h2("/chat?room=deflate", deflate=True)

    def check_websocket_over_h2(self, path, deflate):
        origin = WsOrigin(self.pki.localhost_pem, self.pki.localhost_key)
        self.addCleanup(origin.close)
        out = self.ws_client(self.hark, origin.port, path, deflate)
        self.assertEqual(bool(out["extensions"]), deflate, out)
        self.assertTrue(out["enableConnectProtocol"], out)
        self.assertEqual(out["status"], 200, out)
        self.assertEqual(out["received"], [
            {"type": "text", "data": "hello over h2"},
            {"type": "binary", "data": [1, 2, 3, 250]},
            {"type": "pong", "data": "are you there"},
            {"type": "text", "data": "fragmented"},
            {"type": "close", "data": "\x03\xe8bye"},
        ])
        self.assertFalse(out["rstCode"], out)
        url = "wss://localhost:%d%s" % (origin.port, path)
        e = self.hark.wait_for_entry(url)
        self.assertTrue(e["isWebSocket"])
        self.assertEqual(e["httpVersion"], "HTTP/2")
        self.assertEqual(e["upstreamHttpVersion"], "HTTP/2")
        self.assertEqual(e["request"]["method"], "CONNECT")
        self.assertIn([":protocol", "websocket"], e["request"]["headers"])
        self.assertEqual(e["response"]["statusCode"], 200)
        self.assertIsNone(e["error"])
        messages_path = "/api/sessions/active/entries/%s/websocket" % e["id"]
        deadline = time.monotonic() + 10
        while True:
            messages = self.hark.api_ok("GET", messages_path)["messages"]
            if len(messages) >= 10 or time.monotonic() > deadline:
                break
            time.sleep(0.1)

        def payload(m):
            p = dict(m["payload"])
            kind = p.pop("type")
            return (m["side"], kind, p)

        binary = {"data": base64.b64encode(bytes([1, 2, 3, 250])).decode()}
        ping = {"data": base64.b64encode(b"are you there").decode()}
        got = [payload(m) for m in messages]
        for side in ("client", "server"):
            self.assertEqual([p for p in got if p[0] == side], [
                (side, "text", {"text": "hello over h2"}),
                (side, "binary", binary),
                (side, "ping" if side == "client" else "pong", ping),
                (side, "text", {"text": "fragmented"}),
                (side, "close", {"code": 1000, "reason": "bye"}),
            ], got)
        # A second client connection shares the origin's connection (pooled, its SETTINGS known
        # already): extended CONNECT is advertised to it too.
        again = self.ws_client(self.hark, origin.port, path + "&again", deflate)
        self.assertEqual((again["status"], len(again["received"])), (200, 5), again)
        second = self.hark.wait_for_entry(url + "&again")
        self.assertEqual(second["upstreamHttp2"]["connectionId"],
                         e["upstreamHttp2"]["connectionId"])
        self.assertNotEqual(second["http2"]["connectionId"], e["http2"]["connectionId"])

    def test_extended_connect_is_not_advertised_when_the_origin_does_not_support_it(self):
        origin = WsOrigin(self.pki.localhost_pem, self.pki.localhost_key, connect_protocol=False)
        self.addCleanup(origin.close)
        out = self.ws_client(self.hark, origin.port, "/chat")
        self.assertEqual(out, {"enableConnectProtocol": False})


class ChromiumHttp2Test(NodeOriginCase):
    """Headless Chromium (Debian's, driven by puppeteer-core) loads a page of an HTTP/2 origin
    through Hark: h2 on both sides, as the browser itself reports it."""

    def test_browser_loads_an_h2_page_over_h2(self):
        chromium = os.environ.get("HARK_CHROMIUM", "/usr/bin/chromium")
        if not os.access(chromium, os.X_OK):
            raise missing("chromium is not installed (%s): no browser HTTP/2 test" % chromium)
        url = "https://localhost:%d/echo?browser" % self.origin.port
        proc = subprocess.run(["node", os.path.join(HERE, "h2_chromium.js"), "--proxy",
                               str(self.hark.proxy_port), "--url", url, "--chromium", chromium],
                              capture_output=True, text=True, timeout=120, cwd=HERE,
                              env=clean_env())
        if proc.returncode == 3:
            raise missing(proc.stderr.strip())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        page = json.loads(proc.stdout)
        self.assertEqual(page["status"], 200)
        self.assertTrue(page["body"].startswith("GET /echo?browser 0 "), page["body"])
        self.assertEqual(page["nextHopProtocol"], "h2")
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["httpVersion"], "HTTP/2")
        self.assertEqual(e["upstreamHttpVersion"], "HTTP/2")
        self.assertEqual(e["request"]["headers"][0], [":method", "GET"])
        self.assertEqual(e["response"]["statusCode"], 200)
        self.assertTrue(e["http2"]["connectionId"])
        self.assertIsNone(e["error"])


class GrpcTest(unittest.TestCase):
    """@grpc/grpc-js client and server through Hark: the client reaches the server through its
    own proxy support (CONNECT, from $grpc_proxy), trusting Hark's CA."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("node") is None:
            raise missing("node is not installed")
        if not os.path.isdir(os.path.join(HERE, "node_modules", "@grpc", "grpc-js")):
            raise missing("npm package @grpc/grpc-js is not installed (scripts/hark.sh deps)")
        cls.pki = shared_test_pki()
        cls.hark = start_hark(["--upstream-ca", cls.pki.ca_pem])
        cls.addClassCleanup(cls.hark.kill9)
        cls.server = subprocess.Popen(["node", GRPC_PEER, "server", cls.pki.localhost_pem,
                                       cls.pki.localhost_key], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True, env=clean_env())
        cls.addClassCleanup(cls.server.kill)
        cls.port = json.loads(cls.server.stdout.readline())["port"]

    def test_unary_streaming_and_deadline_calls_are_relayed_and_recorded(self):
        env = clean_env({"grpc_proxy": "http://127.0.0.1:%d" % self.hark.proxy_port})
        result = subprocess.run(["node", GRPC_PEER, "client", str(self.port),
                                 os.path.join(self.hark.data_dir, "ca", "ca.pem")],
                                capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        out = json.loads(result.stdout)
        self.assertEqual(out["unary"], {"reply": "echo:hi"})
        self.assertEqual(out["serverStream"], {"parts": ["part%d" % i for i in range(5)],
                                               "code": 0})
        self.assertEqual(out["bidi"], {"parts": ["back:a", "back:b", "back:c"], "code": 0})
        self.assertEqual(out["slow"], {"code": 1})  # CANCELLED
        base = "https://localhost:%d/hark.Test/" % self.port
        deadline = time.monotonic() + 5
        while True:
            entries = {e["url"]: e for e in self.hark.entries(query="order=desc")}
            if all(base + m in entries for m in ("Unary", "ServerStream", "Bidi", "Slow")):
                break
            self.assertLess(time.monotonic(), deadline, list(entries))
            time.sleep(0.05)
        for name in ("Unary", "ServerStream", "Bidi"):
            e = entries[base + name]
            self.assertEqual(e["httpVersion"], "HTTP/2")
            self.assertEqual(e["upstreamHttpVersion"], "HTTP/2")
            self.assertIn(["grpc-status", "0"], e["response"]["trailers"], name)
            self.assertIsNone(e["error"], name)
        self.assertEqual(entries[base + "Slow"]["error"]["code"], "client_reset")
        self.server.terminate()
        rest, _ = self.server.communicate(timeout=10)
        self.assertIn({"cancelled": "Slow"}, [json.loads(l) for l in rest.splitlines() if l])


if __name__ == "__main__":
    unittest.main()
