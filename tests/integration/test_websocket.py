"""WebSocket capture (SPEC §5): the npm `ws` package as client and origin (ws_peer.js), through
Hark on every HTTP/1.1 path — absolute-form ws://, ws:// over CONNECT, intercepted wss:// —
with permessage-deflate on and off. Each run compares the messages Hark recorded (REST API)
with what the peers sent, after the peers checked that everything arrived byte for byte."""

import base64
import json
import os
import shutil
import subprocess
import time
import unittest
import urllib.parse

from harklib import _live_processes, missing, shared_test_pki, start_hark

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "ws_peer.js")


def require_ws():
    if shutil.which("node") is None:
        raise missing("node is not installed: WebSocket tests need it")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "ws")):
        raise missing("the npm package ws is not installed (scripts/hark.sh deps)")


class WsOrigin:
    """`node ws_peer.js origin` on 127.0.0.1:<free port>, TLS when given a leaf."""

    def __init__(self, deflate, tls=None, extra=()):
        args = ["node", PEER, "origin"] + (["--deflate"] if deflate else []) + list(extra)
        if tls:
            args += ["--tls", tls[0], tls[1]]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, cwd=HERE)
        _live_processes.add(self.proc)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("ws origin did not start: %s" % self.proc.stderr.read())
        self.port = json.loads(line)["port"]

    def close(self):
        self.proc.kill()
        self.proc.wait()


def run_client(proxy_port, path, url, deflate, ca=None):
    """Runs the client script through Hark; returns what each side sent ({client, server})."""
    args = ["node", PEER, "client", "--proxy", str(proxy_port), "--path", path, "--url", url]
    if deflate:
        args.append("--deflate")
    if ca:
        args += ["--ca", ca]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=HERE)
    if proc.returncode != 0:
        raise AssertionError("ws client failed (%d): %s%s" % (proc.returncode, proc.stdout,
                                                              proc.stderr))
    return json.loads(proc.stdout)


def normalized(message):
    """A recorded WebSocketMessage's payload in the peers' record form."""
    p = message["payload"]
    if p["type"] == "text":
        return {"type": "text", "text": p["text"]}
    if p["type"] == "close":
        return {"type": "close", "code": p["code"], "reason": p["reason"]}
    return {"type": p["type"], "data": p["data"]}


class WebSocketCaptureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_ws()
        cls.pki = shared_test_pki()
        cls.hark = start_hark(["--upstream-ca", cls.pki.ca_pem])
        cls.origins = {}
        for deflate in (False, True):
            cls.origins[("ws", deflate)] = WsOrigin(deflate)
            cls.origins[("wss", deflate)] = WsOrigin(
                deflate, (cls.pki.localhost_pem, cls.pki.localhost_key))

    @classmethod
    def tearDownClass(cls):
        for origin in cls.origins.values():
            origin.close()
        cls.hark.stop()

    def capture(self, path, scheme, deflate):
        origin = self.origins[(scheme, deflate)]
        host = "localhost" if scheme == "wss" else "127.0.0.1"
        url = "%s://%s:%d/chat/%s-%s?deflate=%d" % (scheme, host, origin.port, path, scheme,
                                                    int(deflate))
        ca = os.path.join(self.hark.data_dir, "ca", "ca.pem") if scheme == "wss" else None
        sent = run_client(self.hark.proxy_port, path, url, deflate, ca)
        entry = self.hark.wait_for_entry(url)
        self.assertTrue(entry["isWebSocket"])
        self.assertEqual(entry["response"]["statusCode"], 101)
        headers = {name.lower(): value for name, value in entry["response"]["headers"]}
        self.assertEqual(headers.get("upgrade", "").lower(), "websocket")
        self.assertEqual("permessage-deflate" in headers.get("sec-websocket-extensions", ""),
                         deflate)
        expected = len(sent["client"]) + len(sent["server"])
        messages = self.wait_for_messages(entry["id"], expected)
        for side in ("client", "server"):
            got = [normalized(m) for m in messages if m["side"] == side]
            self.assertEqual(len(got), len(sent[side]), side)
            for i, (g, s) in enumerate(zip(got, sent[side])):
                self.assertEqual(g, s, "%s message %d differs" % (side, i))
        for m in messages:
            self.assertLessEqual(m["startedAt"], m["endedAt"])
        return entry, messages

    def wait_for_messages(self, entry_id, n, timeout=10.0):
        path = "/api/sessions/active/entries/%s/websocket" % entry_id
        deadline = time.monotonic() + timeout
        while True:
            messages = self.hark.api_ok("GET", path)["messages"]
            if len(messages) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(messages), n, "recorded messages")
        return messages

    def test_absolute_form_ws(self):
        for deflate in (False, True):
            with self.subTest(deflate=deflate):
                self.capture("absolute", "ws", deflate)

    def test_ws_over_connect(self):
        for deflate in (False, True):
            with self.subTest(deflate=deflate):
                self.capture("connect", "ws", deflate)

    def test_intercepted_wss(self):
        for deflate in (False, True):
            with self.subTest(deflate=deflate):
                entry, _ = self.capture("connect", "wss", deflate)
                self.assertTrue(entry["url"].startswith("wss://localhost:"))
                self.assertIsNotNone(entry["tls"]["connectionId"])

    def test_rpc_har_and_totals_carry_the_messages(self):
        entry, messages = self.capture("connect", "ws", True)
        sid = self.hark.active_session()["id"]
        rpc = self.hark.api_ok("POST", "/api/rpc", {
            "jsonrpc": "2.0", "id": 1, "method": "sessions/get_websocket_messages",
            "params": {"sessionId": sid, "entryId": entry["id"]}})
        self.assertEqual(rpc["result"], messages)
        # totalBytes counts the messages' bytes: far more than the heads of the few entries.
        self.assertGreater(self.hark.api_ok("GET", "/api/sessions/%s" % sid)["totalBytes"],
                           100000)
        status, _, har = self.hark.api("GET", "/api/har/export/%s" % sid)
        self.assertEqual(status, 200)
        if isinstance(har, bytes):
            har = json.loads(har)
        exported = [e for e in har["log"]["entries"] if e["request"]["url"] == entry["url"]]
        self.assertEqual(len(exported), 1)
        ws = exported[0]["_webSocketMessages"]
        self.assertEqual(len(ws), len(messages))
        texts = [m["data"] for m in ws if m["opcode"] == 1]
        self.assertIn("hello from client", texts)
        self.assertEqual(sum(1 for m in ws if m["type"] == "send"),
                         sum(1 for m in messages if m["side"] == "client"))
        # And back: imported into a new session, the messages are the same.
        status, _, imported = self.hark.api("POST", "/api/har/import",
                                            json.dumps({"log": {**har["log"],
                                                                "entries": exported}}))
        self.assertEqual(status, 200, imported)
        new_sid = imported["sessionId"]
        new_entry = self.hark.api_ok("GET", "/api/sessions/%s/entries" % new_sid)["entries"][0]
        again = self.hark.api_ok("GET", "/api/sessions/%s/entries/%s/websocket"
                                 % (new_sid, new_entry["id"]))["messages"]
        self.assertEqual([normalized(m) for m in again], [normalized(m) for m in messages])
        self.assertEqual([m["side"] for m in again], [m["side"] for m in messages])


if __name__ == "__main__":
    unittest.main()


def ws_frame(opcode, payload, fin=True, mask=None, rsv=0, declared=None):
    """One frame built by hand (RFC 6455 §5.2); `declared` overrides the length field (64-bit)."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    mask_bit = 0x80 if mask else 0
    n = len(payload) if declared is None else declared
    if declared is None and n < 126:
        head += bytes([mask_bit | n])
    elif declared is None and n < 65536:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + n.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


class RawWsOrigin:
    """A hand-made WebSocket origin: answers the upgrade, sends `script` bytes, keeps every byte
    it receives until the client closes."""

    def __init__(self, script):
        import socket
        import threading
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.received = b""
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        import hashlib
        conn, _ = self.listener.accept()
        conn.settimeout(15)
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        head, _, rest = request.partition(b"\r\n\r\n")
        key = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:")][0]
        accept = base64.b64encode(hashlib.sha1(
            key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        conn.sendall(self.script)
        self.received = rest
        while True:
            piece = conn.recv(65536)
            if not piece:
                break
            self.received += piece
        conn.close()


class WebSocketBadInputTest(unittest.TestCase):
    """Invalid frames from either side are relayed unchanged, recorded as `unknown` (or cut
    short), and the daemon goes on serving."""

    def test_invalid_frames_are_relayed_and_recorded_as_unknown(self):
        import socket
        hark = start_hark()
        self.addCleanup(hark.kill9)
        mask = b"\x11\x22\x33\x44"
        server_script = (ws_frame(0x3, b"reserved data opcode") +
                         ws_frame(0x1, b"bad \xc3\x28 utf-8") +
                         ws_frame(0xB, b"reserved control") +
                         ws_frame(0x2, b"", declared=(1 << 63) - 1) + b"x" * 100000)
        origin = RawWsOrigin(server_script)
        self.addCleanup(origin.listener.close)
        client_script = (ws_frame(0x1, b"fine", mask=mask) +
                         ws_frame(0x1, b"\xed\xa0\x80 surrogate", mask=mask) +
                         ws_frame(0x2, b"rsv2", mask=mask, rsv=0x20) +
                         ws_frame(0x0, b"stray continuation", mask=mask) +
                         ws_frame(0x2, b"", mask=mask, declared=1 << 62) + b"y" * 200000)
        sock = socket.create_connection(("127.0.0.1", hark.proxy_port), timeout=15)
        url = "http://127.0.0.1:%d/raw" % origin.port
        sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                      % (url, origin.port)).encode())
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(65536)
        head, _, got = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        sock.sendall(client_script)
        while len(got) < len(server_script):
            piece = sock.recv(65536)
            if not piece:
                break
            got += piece
        self.assertEqual(got, server_script)  # relayed byte for byte
        sock.close()
        origin.thread.join(15)
        self.assertEqual(origin.received, client_script)

        entry = hark.wait_for_entry("ws://127.0.0.1:%d/raw" % origin.port)
        self.assertTrue(entry["isWebSocket"])
        path = "/api/sessions/active/entries/%s/websocket" % entry["id"]
        deadline = time.monotonic() + 10
        while True:
            messages = hark.api_ok("GET", path)["messages"]
            if len(messages) >= 9 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        client = [m["payload"] for m in messages if m["side"] == "client"]
        server = [m["payload"] for m in messages if m["side"] == "server"]
        self.assertEqual([p["type"] for p in client],
                         ["text", "unknown", "unknown", "unknown", "binary"])
        self.assertEqual(client[0]["text"], "fine")
        self.assertEqual(base64.b64decode(client[3]["data"]), b"stray continuation")
        unmasked = bytes(b ^ mask[i % 4] for i, b in enumerate(b"y" * 200000))
        self.assertEqual(base64.b64decode(client[4]["data"]), unmasked)  # cut short by EOF
        self.assertEqual([p["type"] for p in server], ["unknown", "unknown", "unknown", "binary"])
        self.assertEqual(base64.b64decode(server[1]["data"]), b"bad \xc3\x28 utf-8")
        self.assertEqual(base64.b64decode(server[3]["data"]), b"x" * 100000)
        # The daemon is unaffected.
        self.assertEqual(hark.api_ok("GET", "/api/health").get("status"), "ok")


class ChromiumWebSocketTest(unittest.TestCase):
    """Headless Chromium opens a wss:// socket through Hark (interception, permessage-deflate
    as the browser offers it); its messages are recorded."""

    def test_browser_wss_is_recorded(self):
        require_ws()
        chromium = os.environ.get("HARK_CHROMIUM", "/usr/bin/chromium")
        if not os.access(chromium, os.X_OK):
            raise missing("chromium is not installed (%s): no browser WebSocket test" % chromium)
        pki = shared_test_pki()
        hark = start_hark(["--upstream-ca", pki.ca_pem])
        self.addCleanup(hark.kill9)
        origin = WsOrigin(True, (pki.localhost_pem, pki.localhost_key), extra=["--echo"])
        self.addCleanup(origin.close)
        url = "wss://localhost:%d/browser" % origin.port
        proc = subprocess.run(["node", os.path.join(HERE, "ws_chromium.js"), "--proxy",
                               str(hark.proxy_port), "--url", url, "--chromium", chromium],
                              capture_output=True, text=True, timeout=120, cwd=HERE)
        if proc.returncode == 3:
            raise missing(proc.stderr.strip())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["echoed"],
                         ["hello from chromium", [1, 2, 3, 250]])
        entry = hark.wait_for_entry(url)
        self.assertTrue(entry["isWebSocket"])
        self.assertEqual(entry["response"]["statusCode"], 101)
        extensions = [v for n, v in entry["response"]["headers"]
                      if n.lower() == "sec-websocket-extensions"]
        self.assertTrue(extensions and extensions[0].startswith("permessage-deflate"), extensions)
        deadline = time.monotonic() + 10
        path = "/api/sessions/active/entries/%s/websocket" % entry["id"]
        while True:
            messages = hark.api_ok("GET", path)["messages"]
            if len(messages) >= 6 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        by_side = {side: [normalized(m) for m in messages if m["side"] == side]
                   for side in ("client", "server")}
        data = base64.b64encode(bytes([1, 2, 3, 250])).decode()
        for side in ("client", "server"):
            self.assertEqual(by_side[side], [{"type": "text", "text": "hello from chromium"},
                                             {"type": "binary", "data": data},
                                             {"type": "close", "code": 4002,
                                              "reason": "browser done"}], side)
