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

    def __init__(self, deflate, tls=None):
        args = ["node", PEER, "origin"] + (["--deflate"] if deflate else [])
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
