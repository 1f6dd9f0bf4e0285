"""Hostile and malformed input to the REST and JSON-RPC API (SPEC §6, rule 3): invalid UTF-8 in
paths, queries and bodies, bad cursors and filters, malformed and oversized JSON-RPC. Each gets
a precise status and message; the daemon keeps serving and nothing captured is lost."""

import json
import socket
import unittest

from harklib import start_hark

RPC_LIST = b'{"jsonrpc":"2.0","id":1,"method":"sessions/list"}'


class ApiBadInputTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.hark = start_hark()
        cls.addClassCleanup(cls.hark.kill9)
        cls.session = cls.hark.active_session()

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else None
        return self.hark.api(method, path, body=body, headers=headers)

    def expect(self, method, path, status, error=None, body=None):
        got, _, data = self.call(method, path, body)
        self.assertEqual(got, status, "%s %s → %d %r" % (method, path, got, data))
        if error is not None:
            self.assertEqual(data, {"error": error}, "%s %s" % (method, path))
        return data

    def tearDown(self):
        # Whatever the input, the daemon still answers and the session is intact.
        self.assertTrue(self.hark.alive(), self.hark.stderr()[-2000:])
        self.assertEqual(self.hark.api_ok("GET", "/api/health")["status"], "ok")
        self.assertEqual(self.hark.api_ok("GET", "/api/sessions/%s" % self.session["id"])["id"],
                         self.session["id"])

    def test_entry_filters(self):
        entries = "/api/sessions/active/entries"
        cases = [
            ("?cursor=%FF%00", "Invalid cursor"),
            ("?cursor=AAAA", "Invalid cursor"),
            ("?limit=-1", "Invalid limit: use an integer from 1 to 1000"),
            ("?limit=0", "Invalid limit: use an integer from 1 to 1000"),
            ("?limit=99999999999999999999", "Invalid limit: use an integer from 1 to 1000"),
            ("?status=6xx", "Invalid status filter: use a code like 404 or a class like 5xx"),
            ("?since=notadate", "Invalid since filter: use ISO 8601 or Unix milliseconds"),
            ("?order=sideways", "Invalid order: use asc or desc"),
            ("?isWebSocket=maybe", "Invalid isWebSocket filter: use true or false"),
        ]
        for query, error in cases:
            with self.subTest(query=query):
                self.expect("GET", entries + query, 400, error)
        # Invalid UTF-8 in a text filter is a search for those bytes: no match, not an error.
        for query in ("?q=%FF%FE", "?host=%FF", "?method=%C0%80", "?q=%22%2A%28"):
            with self.subTest(query=query):
                data = self.expect("GET", entries + query, 200)
                self.assertEqual(data["entries"], [])

    def test_unknown_ids_with_invalid_utf8(self):
        self.expect("GET", "/api/sessions/%FF", 404, "Session not found")
        self.expect("GET", "/api/sessions/active/entries/%FF%FE", 404, "Entry not found")
        self.expect("GET", "/api/tls/%FF", 404, "TLS connection not found")
        self.expect("DELETE", "/api/passthrough/%FF", 404, "Pattern not found")
        self.expect("GET", "/api/events?sessionId=%FF", 404, "Session not found")

    def test_bodies_that_are_not_json_objects(self):
        for body in (b'{"name": "\xff\xfe"}', b"{", b"[1]", b"null", b'"text"', b"\x00" * 10):
            with self.subTest(body=body):
                self.expect("POST", "/api/sessions", 400, "Invalid JSON body", body=body)
                self.expect("POST", "/api/passthrough", 400, "Invalid JSON body", body=body)
        self.expect("POST", "/api/sessions", 400, "Field 'name' must be a string",
                    body=b'{"name": 5}')

    def rpc(self, body):
        status, _, data = self.call("POST", "/api/rpc", body)
        self.assertEqual(status, 200, data)
        return data

    def test_malformed_json_rpc(self):
        self.assertEqual(self.rpc(b"\xff")["error"]["code"], -32700)
        self.assertEqual(self.rpc(b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"\xff"}}')
                         ["error"]["code"], -32700)
        self.assertEqual(self.rpc(b"[]")["error"], {"code": -32600, "message": "Invalid Request",
                                                    "data": "empty batch"})
        huge = b"[" + b",".join([RPC_LIST] * 1001) + b"]"
        self.assertEqual(self.rpc(huge)["error"]["data"], "batch larger than 1000")
        self.assertEqual(len(self.rpc(b"[" + b",".join([RPC_LIST] * 1000) + b"]")), 1000)
        self.assertEqual(self.rpc(b'{"jsonrpc":"1.0","id":1,"method":"sessions/list"}')
                         ["error"]["code"], -32600)
        self.assertEqual(self.rpc(b'{"jsonrpc":"2.0","id":1,"method":"nope/nothing"}')
                         ["error"]["code"], -32601)
        bad_params = self.rpc(b'{"jsonrpc":"2.0","id":1,"method":"sessions/get_entry",'
                              b'"params":{"sessionId":1,"entryId":"x"}}')
        self.assertEqual(bad_params["error"]["code"], -32602)
        # A lone surrogate escape is not valid Unicode: a parse error, not a crash.
        self.assertEqual(self.rpc(b'{"jsonrpc":"2.0","id":1,"method":"sessions/get_entry",'
                                  b'"params":{"sessionId":"\\ud800","entryId":"x"}}')
                         ["error"]["code"], -32700)

    def test_deeply_nested_json(self):
        nested = b"[" * 100000 + b"]" * 100000
        # A batch of one element, itself not a request object.
        answer = self.rpc(nested)
        self.assertEqual(len(answer), 1)
        self.assertEqual(answer[0]["error"]["code"], -32600)
        self.expect("POST", "/api/sessions", 400, "Invalid JSON body", body=nested)

    def test_raw_garbage_request_line(self):
        with socket.create_connection(("127.0.0.1", self.hark.api_port), timeout=10) as s:
            s.sendall(b"\xff\xfe GARBAGE \x00\r\n\r\n")
            answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:100])
        self.assertIn(b'{"error":"Malformed request"}', answer)


if __name__ == "__main__":
    unittest.main()
