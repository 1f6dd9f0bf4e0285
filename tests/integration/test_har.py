"""HAR 1.2 export and import against the real binary.

Traffic is captured through the proxy from a local origin (a gzip-encoded page, a POST with a
JSON body, a binary download, a query string with cookies), exported with GET
/api/har/export/:sid and POST /api/har/export, imported back with POST /api/har/import, and
every exported document is checked by the npm package har-validator (har_validate.js beside
this file, from tests/integration/node_modules). The validation, and only it, is skipped when
node or the package is missing.
"""

import base64
import gzip
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harklib import (GZIP_TEXT, HarkTestCase, Reader, ULID_RE, connect, curl, missing,
                     pattern_chunks, read_message)

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATE_SCRIPT = os.path.join(HERE, "har_validate.js")


def validate_har(test, *documents):
    """Runs har-validator on each document; fails the test with the schema errors. Skips the
    test (after everything it checked before) when node or har-validator is missing."""
    if shutil.which("node") is None:
        raise missing("node is not installed: HAR documents not validated")
    with tempfile.TemporaryDirectory(prefix="hark-har-") as folder:
        paths = []
        for i, document in enumerate(documents):
            path = os.path.join(folder, "export-%d.har" % i)
            with open(path, "w") as f:
                json.dump(document, f)
            paths.append(path)
        proc = subprocess.run(["node", VALIDATE_SCRIPT] + paths, capture_output=True, text=True,
                              timeout=120)
    if proc.returncode == 3:
        raise missing("har-validator is not installed: " + proc.stderr.strip())
    test.assertEqual(proc.returncode, 0, "har-validator rejected the export:\n" + proc.stderr)


def without_ids(entries):
    """The entries minus what legitimately changes on import (the entry ids)."""
    out = []
    for entry in entries:
        entry = dict(entry)
        entry.pop("_harkEntryId", None)
        out.append(entry)
    return out


def chunk_sizes(raw):
    """The sizes of the chunks of a chunked message, from its raw bytes (the last, 0, included)."""
    at = raw.index(b"\r\n\r\n") + 4
    sizes = []
    while True:
        end = raw.index(b"\r\n", at)
        size = int(raw[at:end].split(b";")[0], 16)
        sizes.append(size)
        at = end + 2 + size + 2
        if size == 0:
            return sizes


def har(entries, creator="Integration"):
    return {"log": {"version": "1.2", "creator": {"name": creator, "version": "1"},
                    "entries": entries}}


def har_entry(url, started="2026-03-02T08:41:07.123Z", text="hello"):
    return {
        "startedDateTime": started, "time": 12.5,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": [{"name": "Host", "value": "example.test"}], "queryString": [],
                    "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                     "cookies": [], "headers": [{"name": "Content-Type", "value": "text/plain"}],
                     "content": {"size": len(text), "mimeType": "text/plain", "text": text},
                     "redirectURL": "", "headersSize": -1, "bodySize": len(text)},
        "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1.5},
    }


class HarTest(HarkTestCase):

    def setUp(self):
        self.hark = self.start_hark()
        self.origin = self.start_http_origin()
        self.urls = {
            "gzip": self.origin.url("/gzip"),
            "post": self.origin.url("/echo?kind=json"),
            "bytes": self.origin.url("/bytes?n=3000"),
            "query": self.origin.url("/hello?q=a%20b&lang=en+GB&flag"),
        }
        self.json_body = json.dumps({"user": "ann", "items": [1, 2, 3], "note": "caf\u00e9"})
        self.curl([self.urls["gzip"]])
        self.curl(["-H", "Content-Type: application/json", "--data-binary", self.json_body,
                   self.urls["post"]])
        self.curl([self.urls["bytes"]])
        self.curl(["-H", "Cookie: sid=abc; theme=dark", self.urls["query"]])
        self.hark.wait_for_entries(4)
        self.sid = self.hark.active_session()["id"]

    def curl(self, args):
        result = curl(args, self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def export(self, sid):
        status, headers, doc = self.hark.api("GET", "/api/har/export/%s" % sid)
        self.assertEqual(status, 200, doc)
        self.assertIsInstance(doc, dict)
        return doc

    def by_url(self, doc):
        return {e["request"]["url"]: e for e in doc["log"]["entries"]}

    def raw_get(self, path):
        """GET on a raw socket: the response exactly as the API sent it."""
        with connect(self.hark.api_port, timeout=30) as sock:
            sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                          % (path, self.hark.api_port)).encode())
            reader = Reader(sock)
            msg = read_message(reader, response=True)
            self.assertEqual(reader.read_to_eof(), b"", "bytes after the last chunk")
            return msg

    def test_session_export_is_streamed_and_valid(self):
        msg = self.raw_get("/api/har/export/%s" % self.sid)
        self.assertEqual(msg.status, 200)
        self.assertTrue(msg.chunked)
        self.assertIsNone(msg.header("Content-Length"))
        self.assertTrue(msg.raw.endswith(b"\r\n0\r\n\r\n"), msg.raw[-40:])
        self.assertEqual(msg.header("Content-Type"), "application/json; charset=utf-8")
        name = self.hark.active_session()["name"]
        self.assertEqual(msg.header("Content-Disposition"),
                         'attachment; filename="%s.har"' % name.replace("/", "_").replace(":", "_"))
        doc = json.loads(msg.body)
        log = doc["log"]
        self.assertEqual(log["version"], "1.2")
        self.assertEqual(log["creator"]["name"], "Hark")
        health = self.hark.api_ok("GET", "/api/health")
        self.assertEqual(log["creator"]["version"], health["version"])
        self.assertEqual(len(log["entries"]), 4)
        started = [e["startedDateTime"] for e in log["entries"]]
        self.assertEqual(started, sorted(started))
        for entry in log["entries"]:
            self.assertEqual(entry["request"]["httpVersion"], "HTTP/1.1")
            self.assertEqual(entry["response"]["httpVersion"], "HTTP/1.1")
            self.assertRegex(entry["_harkEntryId"], ULID_RE)
            self.assertEqual(entry["serverIPAddress"], "127.0.0.1")
            for phase in ("blocked", "dns", "connect", "send", "wait", "receive", "ssl"):
                self.assertIsInstance(entry["timings"][phase], (int, float), phase)
            self.assertGreaterEqual(entry["timings"]["wait"], 0)
            self.assertEqual(entry["timings"]["ssl"], -1)  # plain HTTP
            self.assertGreater(entry["time"], 0)
        self.assertEqual(self.export("active"), doc)
        validate_har(self, doc)

    def test_bodies_headers_cookies_and_query(self):
        doc = self.export(self.sid)
        entries = self.by_url(doc)
        # gzip: HAR carries the decoded content, with the bytes saved.
        page = entries[self.urls["gzip"]]["response"]
        self.assertEqual(page["content"]["text"], GZIP_TEXT.decode())
        self.assertEqual(page["content"]["size"], len(GZIP_TEXT))
        self.assertEqual(page["bodySize"], len(gzip.compress(GZIP_TEXT)))
        self.assertEqual(page["content"]["compression"], page["content"]["size"] - page["bodySize"])
        self.assertIn({"name": "Content-Encoding", "value": "gzip"}, page["headers"])
        # POST with a JSON body, echoed.
        post = entries[self.urls["post"]]
        self.assertEqual(post["request"]["method"], "POST")
        self.assertEqual(post["request"]["postData"],
                         {"mimeType": "application/json", "text": self.json_body})
        self.assertEqual(post["request"]["bodySize"], len(self.json_body.encode()))
        self.assertEqual(post["response"]["content"]["text"], self.json_body)
        self.assertEqual(post["request"]["queryString"], [{"name": "kind", "value": "json"}])
        # Binary: base64.
        content = entries[self.urls["bytes"]]["response"]["content"]
        self.assertEqual(content["encoding"], "base64")
        self.assertEqual(base64.b64decode(content["text"]), b"".join(pattern_chunks(3000)))
        self.assertEqual(content["mimeType"], "application/octet-stream")
        # Headers in the order and case curl sent them; cookies and query decoded.
        query = entries[self.urls["query"]]["request"]
        names = [h["name"] for h in query["headers"]]
        self.assertEqual(names[:3], ["Host", "User-Agent", "Accept"])
        self.assertIn("Cookie", names)
        self.assertEqual([(c["name"], c["value"]) for c in query["cookies"]],
                         [("sid", "abc"), ("theme", "dark")])
        self.assertEqual(query["queryString"], [{"name": "q", "value": "a b"},
                                                {"name": "lang", "value": "en GB"},
                                                {"name": "flag", "value": ""}])
        self.assertGreater(query["headersSize"], 0)
        validate_har(self, doc)

    def test_selection_export(self):
        entries = self.hark.entries()
        ids = [entries[2]["id"], "01HQZZZZZZZZZZZZZZZZZZZZZZ", entries[0]["id"]]
        status, headers, doc = self.hark.api("POST", "/api/har/export", {"entryIds": ids})
        self.assertEqual(status, 200, doc)
        self.assertEqual([e["_harkEntryId"] for e in doc["log"]["entries"]], [ids[0], ids[2]])
        self.assertIn("attachment;", headers["Content-Disposition"])
        for body, message in (({}, "Field 'entryIds' is required"),
                              ({"entryIds": []}, "Field 'entryIds' must not be empty"),
                              ({"entryIds": "x"}, "Field 'entryIds' must be an array of strings"),
                              ("not json", "Invalid JSON body")):
            status, _, error = self.hark.api("POST", "/api/har/export", body)
            self.assertEqual((status, error), (400, {"error": message}))
        validate_har(self, doc)

    def test_round_trip_export_import_export(self):
        first = self.export(self.sid)
        status, _, summary = self.hark.api("POST", "/api/har/import", first)
        self.assertEqual(status, 200, summary)
        self.assertEqual((summary["success"], summary["imported"], summary["total"]),
                         (True, 4, 4))
        self.assertEqual(summary["errors"], [])
        self.assertNotEqual(summary["sessionId"], self.sid)
        self.assertTrue(summary["sessionName"].startswith("HAR import (Hark "),
                        summary["sessionName"])
        session = self.hark.api_ok("GET", "/api/sessions/%s" % summary["sessionId"])
        original = self.hark.api_ok("GET", "/api/sessions/%s" % self.sid)
        self.assertEqual(session["trafficCount"], 4)
        self.assertEqual(session["totalBytes"], original["totalBytes"])
        self.assertFalse(session["isActive"])
        second = self.export(summary["sessionId"])
        self.assertEqual(without_ids(second["log"]["entries"]),
                         without_ids(first["log"]["entries"]))
        first_ids = {e["_harkEntryId"] for e in first["log"]["entries"]}
        self.assertFalse(first_ids & {e["_harkEntryId"] for e in second["log"]["entries"]})
        validate_har(self, first, second)

    def test_imported_entries_show_in_rest_and_rpc(self):
        summary = self.hark.api_ok("POST", "/api/har/import", self.export(self.sid))
        sid = summary["sessionId"]
        entries = self.hark.entries(sid)
        self.assertEqual(len(entries), 4)
        gz = [e for e in entries if e["url"] == self.urls["gzip"]][0]
        self.assertRegex(gz["id"], ULID_RE)
        self.assertEqual(gz["sessionId"], sid)
        self.assertEqual(gz["httpVersion"], "HTTP/1.1")
        self.assertEqual(gz["response"]["statusCode"], 200)
        status, _, body = self.hark.api(
            "GET", "/api/sessions/%s/entries/%s/response/body" % (sid, gz["id"]))
        self.assertEqual((status, body), (200, GZIP_TEXT))
        rpc = self.hark.api_ok("POST", "/api/rpc", {
            "jsonrpc": "2.0", "id": 1, "method": "sessions/get_response_body",
            "params": {"sessionId": sid, "entryId": gz["id"], "encoding": "text"}})
        self.assertEqual(rpc["result"], GZIP_TEXT.decode())
        rpc = self.hark.api_ok("POST", "/api/rpc", {
            "jsonrpc": "2.0", "id": 2, "method": "sessions/get_entry",
            "params": {"sessionId": sid, "entryId": gz["id"]}})
        self.assertEqual(rpc["result"]["url"], self.urls["gzip"])
        filtered = self.hark.entries(sid, "method=POST")
        self.assertEqual([e["url"] for e in filtered], [self.urls["post"]])

    def test_import_into_an_existing_session(self):
        target = self.hark.api_ok("POST", "/api/sessions", {"name": "target"}, status=201)
        document = har([har_entry("http://example.test/a"), har_entry("http://example.test/b")])
        summary = self.hark.api_ok("POST", "/api/har/import?sessionId=%s" % target["id"],
                                   document)
        self.assertEqual((summary["sessionId"], summary["sessionName"]), (target["id"], "target"))
        self.assertEqual(summary["imported"], 2)
        again = self.hark.api_ok("POST", "/api/har/import?sessionId=%s" % target["id"], document)
        self.assertEqual(again["imported"], 2)
        session = self.hark.api_ok("GET", "/api/sessions/%s" % target["id"])
        self.assertEqual(session["trafficCount"], 4)
        self.assertEqual(session["totalBytes"], 4 * len("hello"))
        self.assertEqual(len(self.hark.entries(target["id"])), 4)
        named = self.hark.api_ok("POST", "/api/har/import?name=login.har", document)
        self.assertEqual(named["sessionName"], "login.har")
        validate_har(self, self.export(target["id"]))

    def test_invalid_har_is_400(self):
        for body, message in ((b"{nope", "Invalid HAR: the body is not valid JSON"),
                              (b"[]", "Invalid HAR: the document must be a JSON object"),
                              (b"{}", "Invalid HAR: missing 'log' object"),
                              (b'{"log": {"entries": 3}}',
                               "Invalid HAR: 'log.entries' must be an array")):
            status, _, error = self.hark.api("POST", "/api/har/import", body)
            self.assertEqual((status, error), (400, {"error": message}), body)
        status, _, error = self.hark.api("POST", "/api/har/import",
                                         har([{"startedDateTime": "x"}]))
        self.assertEqual(status, 400)
        self.assertEqual(error["error"], "Invalid HAR: no entry could be imported")
        self.assertEqual(error["errors"],
                         [{"index": 0, "error": "startedDateTime must be an ISO 8601 date and time"}])
        sessions = self.hark.api_ok("GET", "/api/sessions")["sessions"]
        self.assertEqual(len(sessions), 1)  # nothing was created

    def test_partial_import(self):
        bad = har_entry("http://example.test/bad")
        del bad["request"]["method"]
        summary = self.hark.api_ok("POST", "/api/har/import", har([
            har_entry("http://example.test/1"), bad, "junk", har_entry("http://example.test/2")]))
        self.assertEqual((summary["imported"], summary["total"]), (2, 4))
        self.assertEqual(summary["errors"], [
            {"index": 1, "error": "request.method must be a string"},
            {"index": 2, "error": "an entry must be an object"}])
        urls = [e["url"] for e in self.hark.entries(summary["sessionId"])]
        self.assertEqual(urls, ["http://example.test/1", "http://example.test/2"])
        validate_har(self, self.export(summary["sessionId"]))

    def test_unknown_sessions_are_404(self):
        status, _, error = self.hark.api("GET", "/api/har/export/no-such-session")
        self.assertEqual((status, error), (404, {"error": "Session not found"}))
        status, _, error = self.hark.api("POST", "/api/har/import?sessionId=no-such-session",
                                         har([har_entry("http://example.test/")]))
        self.assertEqual((status, error), (404, {"error": "Session not found"}))

    def test_large_export_comes_in_many_chunks(self):
        filler = "x" * 1024
        entries = [har_entry("http://example.test/%d" % i,
                             started="2026-03-02T08:%02d:%02d.%03dZ" % (i // 3600 % 60,
                                                                        i // 60 % 60, i % 1000),
                             text=filler) for i in range(1500)]
        summary = self.hark.api_ok("POST", "/api/har/import", har(entries))
        self.assertEqual(summary["imported"], 1500)
        msg = self.raw_get("/api/har/export/%s" % summary["sessionId"])
        sizes = chunk_sizes(msg.raw)
        self.assertEqual(sizes[-1], 0)
        self.assertEqual(sum(sizes), len(msg.body))
        self.assertGreater(len(sizes), 20)
        for size in sizes[:-2]:  # pieces of about 64 KiB; the last one holds the rest
            self.assertGreaterEqual(size, 64 * 1024)
            self.assertLess(size, 80 * 1024)
        doc = json.loads(msg.body)
        self.assertEqual(len(doc["log"]["entries"]), 1500)
        self.assertEqual({e["response"]["content"]["text"] for e in doc["log"]["entries"]},
                         {filler})
        validate_har(self, doc)


if __name__ == "__main__":
    unittest.main()
