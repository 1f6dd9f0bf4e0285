"""GET /api/events (Server-Sent Events) against the real daemon: entries as they are committed,
session changes, filters, keep-alive, slow consumers dropped, clients that leave, and shutdown
with a stream open."""

import json
import re
import signal
import socket
import threading
import time
import unittest

from harklib import HarkTestCase, RawClient, Reader, run_cli


class EventStream:
    """A client of /api/events on a raw socket: reads the head, then SSE frames out of the
    HTTP/1.1 chunks. `rcvbuf` shrinks the socket's receive buffer (for a client that stops
    reading)."""

    def __init__(self, port, path="/api/events", rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                           % (path, port)).encode())
        self.reader = Reader(self.sock)
        self.status_line = self.reader.readline().decode("latin-1").rstrip("\r\n")
        self.status = int(self.status_line.split(" ")[1])
        self.headers = {}
        while True:
            line = self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.text = ""      # SSE text received and not yet parsed into frames
        self.ended = False  # the last chunk was received
        self.body = b""     # a non-streamed response's body

        if "content-length" in self.headers:
            self.body = self.reader.read_exact(int(self.headers["content-length"]))

    def json_body(self):
        return json.loads(self.body.decode())

    def _read_chunk(self):
        size_line = self.reader.readline()
        if not size_line:
            raise EOFError("the event stream was cut without its last chunk")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while self.reader.readline() not in (b"\r\n", b"\n", b""):
                pass
            self.ended = True
            return
        self.text += self.reader.read_exact(size).decode("utf-8")
        self.reader.read_exact(2)

    def next_frame(self, timeout=10):
        """The next frame {id, event, data, comments}, a comment-only frame included; None when
        the stream ended."""
        self.sock.settimeout(timeout)
        while "\n\n" not in self.text:
            if self.ended:
                return None
            self._read_chunk()
        block, self.text = self.text.split("\n\n", 1)
        frame = {"id": None, "event": None, "data": None, "comments": []}
        data = []
        for line in block.split("\n"):
            if line.startswith(":"):
                frame["comments"].append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field in ("id", "event"):
                frame[field] = value
        if data:
            frame["data"] = "\n".join(data)
        return frame

    def next_event(self, timeout=10):
        """The next frame with an event (keep-alive comments skipped); data parsed as JSON."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next_frame(max(0.1, deadline - time.monotonic()))
            if frame is None:
                raise AssertionError("the event stream ended while an event was expected")
            if frame["event"] is not None:
                frame["json"] = json.loads(frame["data"]) if frame["data"] else None
                return frame

    def read_to_end(self, timeout=10):
        """Every remaining frame until the last chunk."""
        frames = []
        while True:
            frame = self.next_frame(timeout)
            if frame is None:
                return frames
            frames.append(frame)

    def close(self):
        self.sock.close()


def proxy_get(client, url, headers=""):
    """One GET through the proxy on a RawClient; returns the response Message."""
    host = re.match(r"http://([^/]+)", url).group(1)
    client.send(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (url, host, headers)).encode())
    return client.response()


class EventsTest(HarkTestCase):

    def setUp(self):
        self.origin = self.start_http_origin()

    def start(self, *args):
        self.hark = self.start_hark(list(args))
        return self.hark

    def open_stream(self, path="/api/events", **kwargs):
        stream = EventStream(self.hark.api_port, path, **kwargs)
        self.addCleanup(stream.close)
        return stream

    def metric(self, name):
        status, _, body = self.hark.api("GET", "/metrics")
        self.assertEqual(status, 200)
        m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
        self.assertIsNotNone(m, "no %s in /metrics" % name)
        return int(m.group(1))

    def wait_for_metric(self, name, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            value = self.metric(name)
            if predicate(value) or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def test_entries_arrive_committed_and_fetchable_at_once(self):
        hark = self.start()
        active = hark.active_session()
        stream = self.open_stream()
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["content-type"], "text/event-stream")
        self.assertEqual(stream.headers["cache-control"], "no-cache")
        self.assertEqual(stream.headers["transfer-encoding"], "chunked")

        urls = [self.origin.url("/hello/%d" % i) for i in range(5)]
        with RawClient(hark.proxy_port) as client:
            for url in urls:
                self.assertEqual(proxy_get(client, url).status, 200)
        seen_ids = []
        for url in urls:
            frame = stream.next_event()
            self.assertEqual(frame["event"], "entry")
            entry = frame["json"]
            self.assertEqual(entry["url"], url)
            self.assertEqual(entry["sessionId"], active["id"])
            self.assertEqual(entry["response"]["statusCode"], 200)
            # Published after the commit: readable right away, no polling.
            status, _, stored = hark.api(
                "GET", "/api/sessions/%s/entries/%s" % (active["id"], entry["id"]))
            self.assertEqual(status, 200)
            self.assertEqual(stored, entry)
            seen_ids.append(int(frame["id"]))
        self.assertEqual(seen_ids, sorted(seen_ids))
        self.assertEqual(len(set(seen_ids)), len(seen_ids))

    def test_session_events(self):
        hark = self.start()
        first = hark.active_session()
        stream = self.open_stream()

        created = hark.api_ok("POST", "/api/sessions", {"name": "watched"}, status=201)
        frame = stream.next_event()
        self.assertEqual(frame["event"], "session")
        self.assertEqual(frame["json"], {"action": "created", "session": created})

        renamed = hark.api_ok("PATCH", "/api/sessions/" + created["id"], {"name": "renamed"})
        frame = stream.next_event()
        self.assertEqual(frame["event"], "session")
        self.assertEqual(frame["json"], {"action": "updated", "session": renamed})

        hark.api_ok("POST", "/api/sessions/%s/activate" % created["id"])
        old, new = stream.next_event(), stream.next_event()
        self.assertEqual((old["event"], new["event"]), ("session", "session"))
        self.assertEqual((old["json"]["action"], new["json"]["action"]), ("updated", "updated"))
        old, new = old["json"]["session"], new["json"]["session"]
        self.assertEqual((old["id"], old["isActive"]), (first["id"], False))
        self.assertEqual((new["id"], new["isActive"]), (created["id"], True))

        hark.api_ok("PATCH", "/api/sessions/" + created["id"], {"isRecording": False})
        frame = stream.next_event()
        self.assertEqual(frame["json"]["session"]["isRecording"], False)

        hark.api_ok("DELETE", "/api/sessions/" + first["id"])
        frame = stream.next_event()
        self.assertEqual(frame["event"], "session")
        self.assertEqual(frame["json"], {"action": "deleted", "session": {"id": first["id"]}})

    def test_session_and_type_filters(self):
        hark = self.start()
        active = hark.active_session()
        other = hark.api_ok("POST", "/api/sessions", {"name": "other"}, status=201)
        only_active = self.open_stream("/api/events?sessionId=active")
        only_entries = self.open_stream("/api/events?sessionId=%s&types=entry" % active["id"])

        hark.api_ok("PATCH", "/api/sessions/" + other["id"], {"name": "ignored"})
        hark.api_ok("PATCH", "/api/sessions/" + active["id"], {"name": "seen"})
        with RawClient(hark.proxy_port) as client:
            self.assertEqual(proxy_get(client, self.origin.url("/hello")).status, 200)

        frame = only_active.next_event()
        self.assertEqual((frame["event"], frame["json"]["session"]["name"]), ("session", "seen"))
        self.assertEqual(only_active.next_event()["event"], "entry")
        frame = only_entries.next_event()
        self.assertEqual(frame["event"], "entry")
        self.assertEqual(frame["json"]["sessionId"], active["id"])

    def test_bad_filters_answer_before_streaming(self):
        hark = self.start()
        stream = self.open_stream("/api/events?sessionId=no-such-session")
        self.assertEqual(stream.status, 404)
        self.assertEqual(stream.json_body(), {"error": "Session not found"})
        stream = self.open_stream("/api/events?types=entry,bogus")
        self.assertEqual(stream.status, 400)
        self.assertIn("bogus", stream.json_body()["error"])
        self.assertEqual(self.metric("hark_events_subscribers"), 0)

    def test_keep_alive_and_a_client_that_leaves_is_removed(self):
        hark = self.start("--events-keepalive", "1")
        stream = self.open_stream()
        self.assertEqual(self.metric("hark_events_subscribers"), 1)
        started = time.monotonic()
        frame = stream.next_frame(timeout=5)
        self.assertEqual(frame["comments"], ["keep-alive"])
        self.assertIsNone(frame["event"])
        self.assertGreater(time.monotonic() - started, 0.5)
        stream.close()
        # Noticed when a keep-alive write fails (the first one after the close may still be
        # accepted by the kernel), then the subscriber is gone.
        self.assertEqual(self.wait_for_metric("hark_events_subscribers", lambda v: v == 0), 0)

    def test_slow_consumer_is_dropped_while_the_proxy_and_others_go_on(self):
        # The queue holds more than the writer commits at once at this pace (a sequential client
        # gives it tens of entries per transaction), so only a client that stops reading
        # overflows it.
        hark = self.start("--events-queue", "512")
        # A client that never reads, with a small receive buffer so that the API's writes to it
        # block soon; each event is large (the request carries a 32 KiB header).
        slow = self.open_stream(rcvbuf=4096)
        fast = self.open_stream()
        received = []
        failures = []

        def read_fast():
            try:
                while len(received) < count:
                    received.append(fast.next_event(timeout=30)["json"]["url"])
            except Exception as exc:  # reported by the main thread
                failures.append(exc)

        # 32 MiB of events: more than the socket buffers and the queue together, while the
        # reading client never lags 512 events behind (a slower machine only slows the sender).
        count = 1000
        reader = threading.Thread(target=read_fast, daemon=True)
        reader.start()
        pad = "X-Pad: %s\r\n" % ("p" * 32 * 1024)
        urls = [self.origin.url("/hello/%d" % i) for i in range(count)]
        with RawClient(hark.proxy_port, timeout=30) as client:
            for url in urls:
                self.assertEqual(proxy_get(client, url, pad).status, 200)
        self.assertEqual(
            self.wait_for_metric("hark_events_dropped_subscribers_total", lambda v: v >= 1), 1)
        reader.join(timeout=30)
        self.assertEqual(failures, [])
        self.assertEqual(received, urls)
        self.assertEqual(self.metric("hark_events_subscribers"), 1)  # the fast one

        # Once it reads again, the slow client gets what was already in flight, then the
        # reason, then the end of the response.
        frames = slow.read_to_end(timeout=30)
        self.assertEqual(frames[-1]["event"], "dropped")
        self.assertEqual(json.loads(frames[-1]["data"]), {"reason": "queue_full"})
        self.assertTrue(all(f["event"] == "entry" for f in frames[:-1]))
        self.assertLess(len(frames) - 1, count)

    def test_tls_failure_event(self):
        hark = self.start()
        stream = self.open_stream("/api/events?types=tls_failure")
        port = self.origin.port
        with RawClient(hark.proxy_port) as client:
            client.send(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
                        % (port, port))
            self.assertEqual(client.response(request_method="CONNECT").status, 200)
            # A handshake record that is no ClientHello: the handshake fails at once.
            client.send(b"\x16\x03\x01\x00\x40" + bytes(range(0xA0, 0xE0)))
            frame = stream.next_event()
        self.assertEqual(frame["event"], "tls_failure")
        self.assertEqual(frame["json"]["sni"], "localhost")
        self.assertIn("ClientHello", frame["json"]["reason"])
        failures = hark.api_ok("GET", "/api/tls/failures")["failures"]
        self.assertEqual(failures[0], frame["json"])

    def test_sigterm_ends_open_streams_and_exits_promptly(self):
        hark = self.start()
        stream = self.open_stream()
        hark.api_ok("POST", "/api/sessions", {"name": "one event"}, status=201)
        self.assertEqual(stream.next_event()["event"], "session")
        started = time.monotonic()
        hark.send_signal(signal.SIGTERM)
        self.assertEqual(hark.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertEqual(stream.read_to_end(timeout=5), [])
        self.assertTrue(stream.ended)

    def test_option_ranges(self):
        for args in (["--events-queue", "0"], ["--events-keepalive", "0"],
                     ["--events-keepalive", "3601"]):
            result = run_cli(args + ["--proxy-listen", "127.0.0.1:0",
                                     "--api-listen", "127.0.0.1:0"])
            self.assertEqual(result.returncode, 2, args)
            self.assertIn(args[0], result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
