"""Helpers for Hark's integration tests (Python 3 standard library only).

start_hark() runs the real binary ($HARK_BINARY) on port 0 with its own data directory and
returns a handle with the chosen ports, an API client and stop()/kill9(). HttpOrigin and
RawOrigin are local upstream servers; read_message() parses one HTTP/1.1 message off a socket
so that tests can look at raw bytes, header order and letter case, chunked framing and trailers.

Every process started here is killed at interpreter exit, whatever happened to the test.
"""

import atexit
import gzip
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

HARK_BINARY = os.environ.get("HARK_BINARY", "")
START_TIMEOUT = 20.0

_live_processes = set()
_temp_dirs = []


def _cleanup_at_exit():
    for proc in list(_live_processes):
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    for path in _temp_dirs:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_cleanup_at_exit)


def make_temp_dir(prefix="hark-test-"):
    """A fresh directory, removed at interpreter exit."""
    path = tempfile.mkdtemp(prefix=prefix)
    _temp_dirs.append(path)
    return path


def clean_env(extra=None):
    """The environment for child processes: no proxy variables, so curl and Hark talk directly."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(extra or {})
    return env


def missing(reason):
    """The exception for a test whose tool (curl, node, an npm package, …) is missing: a skip,
    or a failure under HARK_REQUIRE_TOOLS=1, which `hark.sh test` sets after installing every
    tool, so that the full test command never passes by skipping a check."""
    if os.environ.get("HARK_REQUIRE_TOOLS") == "1":
        return AssertionError(reason + " (HARK_REQUIRE_TOOLS=1: every tool must be installed)")
    return unittest.SkipTest(reason)


def require_binary():
    if not HARK_BINARY or not os.access(HARK_BINARY, os.X_OK):
        raise missing("HARK_BINARY is not set to an executable hark")
    return HARK_BINARY


def is_sanitized_build():
    """True when the binary is built with AddressSanitizer (its memory use is not comparable)."""
    with open(require_binary(), "rb") as f:
        return b"__asan_init" in f.read()


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_descriptors(pid):
    """How many descriptors the process has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def rss_bytes(pid):
    """The process's resident set size now (VmRSS) in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def metric(hark, name):
    """One unlabelled sample of GET /metrics, as a number."""
    status, _, data = hark.api("GET", "/metrics")
    if status != 200:
        raise AssertionError("GET /metrics: %d" % status)
    text = data.decode() if isinstance(data, bytes) else data
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no %s in /metrics" % name)


def peak_rss_bytes(pid):
    """The process's peak resident set size (VmHWM) in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM for pid %d" % pid)


def run_cli(args, timeout=20, env=None, stdin=subprocess.DEVNULL):
    """Runs `hark ARGS` to completion; returns CompletedProcess (stdout/stderr as bytes)."""
    return subprocess.run([require_binary()] + list(args), stdin=stdin, capture_output=True,
                          timeout=timeout, env=clean_env(env))


class Hark:
    """A running hark daemon."""

    def __init__(self, process, data_dir, stderr_path):
        self.process = process
        self.data_dir = data_dir
        self.stderr_path = stderr_path
        self.proxy_port = None
        self.api_port = None
        self.stdout_lines = []
        self._stdout_cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    # -- lifecycle --------------------------------------------------------------------------

    def _read_stdout(self):
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._stdout_cond:
                self.stdout_lines.append(line)
                m = re.search(r"proxy listening on [^\s]*:(\d+)", line)
                if m:
                    self.proxy_port = int(m.group(1))
                m = re.search(r"api listening on [^\s]*:(\d+)", line)
                if m:
                    self.api_port = int(m.group(1))
                self._stdout_cond.notify_all()
        self.process.stdout.close()
        with self._stdout_cond:
            self._stdout_cond.notify_all()

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        with self._stdout_cond:
            while self.proxy_port is None or self.api_port is None:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    break
                self._stdout_cond.wait(min(left, 0.1))
            ready = self.proxy_port is not None and self.api_port is not None
        if not ready:
            self.kill9()
            raise AssertionError(
                "hark did not print both listening lines within %.0f s (exit status %s)\n"
                "stdout:\n%s\nstderr:\n%s" % (timeout, self.process.returncode,
                                             "\n".join(self.stdout_lines), self.stderr()))

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self):
        with self._stdout_cond:
            return "\n".join(self.stdout_lines)

    def send_signal(self, signum):
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout=15):
        """Waits for exit; returns the exit status (kills and fails after `timeout`)."""
        try:
            rc = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError("hark did not exit within %s s\nstderr:\n%s"
                                 % (timeout, self.stderr()))
        self._reader.join(timeout=5)
        _live_processes.discard(self.process)
        return rc

    def stop(self, signum=signal.SIGTERM, timeout=15):
        """Graceful stop; asserts exit status 0."""
        self.send_signal(signum)
        rc = self.wait(timeout)
        if rc != 0:
            raise AssertionError("hark exited with %s after %s\nstderr:\n%s"
                                 % (rc, signal.Signals(signum).name, self.stderr()[-4000:]))

    def kill9(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(timeout=5)
        _live_processes.discard(self.process)

    def alive(self):
        return self.process.poll() is None

    # -- addresses --------------------------------------------------------------------------

    @property
    def proxy_url(self):
        return "http://127.0.0.1:%d" % self.proxy_port

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "hark.db")

    # -- REST API ---------------------------------------------------------------------------

    def api(self, method, path, body=None, headers=None, timeout=30):
        """One API request. `body`: dict/list (sent as JSON), str or bytes (sent as is).
        Returns (status, headers, data): data is parsed JSON when the response says JSON,
        else bytes."""
        hdrs = dict(headers or {})
        payload = None
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            payload = body.encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None:
            payload = body
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            ctype = resp.getheader("Content-Type", "")
            if "json" in ctype:
                data = json.loads(data.decode("utf-8"))
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def api_ok(self, method, path, body=None, headers=None, status=200):
        """Like api(), but asserts the status and returns only the data."""
        got, _, data = self.api(method, path, body, headers)
        if got != status:
            raise AssertionError("%s %s: expected %d, got %d: %r" % (method, path, status, got, data))
        return data

    def active_session(self):
        return self.api_ok("GET", "/api/sessions/active")

    def entries(self, session="active", query=""):
        path = "/api/sessions/%s/entries?limit=1000" % session
        if query:
            path += "&" + query
        return self.api_ok("GET", path)["entries"]

    def wait_index_caught_up(self, timeout=30.0):
        """Polls /api/health until the indexer has read the whole capture log (a backlog left by
        a killed run included); returns the health's store.capture object."""
        deadline = time.monotonic() + timeout
        while True:
            capture = self.api_ok("GET", "/api/health")["store"]["capture"]
            if capture["indexLagBytes"] == 0 and capture["indexLagRecords"] == 0:
                return capture
            if time.monotonic() > deadline:
                raise AssertionError("index not caught up within %.0f s: %s" % (timeout, capture))
            time.sleep(0.05)

    def wait_for_entries(self, n, session="active", timeout=20.0, query=""):
        """Polls until the session has at least n entries (the store writes in the background
        within a few hundred ms, seconds when other work saturates the machine: its indexer
        runs at nice 19); returns the entry list."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.entries(session, query)
            if len(entries) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if len(entries) < n:
            raise AssertionError("expected >= %d entries in session %s within %.1f s, got %d: %s"
                                 % (n, session, timeout, len(entries),
                                    [e.get("url") for e in entries]))
        return entries

    def wait_for_entry(self, url, session="active", timeout=5.0):
        """Polls until an entry with exactly this URL exists; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.entries(session):
                if entry.get("url") == url:
                    return entry
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise AssertionError("no entry for %s within %.1f s; have: %s"
                             % (url, timeout, [e.get("url") for e in self.entries(session)]))


def start_hark(extra_args=(), data_dir=None, env=None, with_data_dir=True, subcommand=None,
               timeout=START_TIMEOUT, prefix=()):
    """Starts hark on port 0 (proxy and API) with its own data directory (a new temp dir unless
    given) and waits for the two listening lines. Returns a Hark. `prefix` runs it through a
    wrapper command (`prlimit --nofile=64 --`)."""
    binary = require_binary()
    if data_dir is None:
        data_dir = make_temp_dir()
    stderr_path = os.path.join(make_temp_dir("hark-log-"), "stderr.log")
    args = list(prefix) + [binary] + ([subcommand] if subcommand else [])
    args += ["--proxy-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"]
    if with_data_dir:
        args += ["--data-dir", data_dir]
    args += list(extra_args)
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, env=clean_env(env))
    _live_processes.add(proc)
    hark = Hark(proc, data_dir, stderr_path)
    hark._wait_ready(timeout)
    return hark


class HarkTestCase(unittest.TestCase):
    """Base class: start_hark() registers a kill as cleanup, so no test leaves a daemon behind."""

    def start_hark(self, extra_args=(), **kwargs):
        hark = start_hark(extra_args, **kwargs)
        self.addCleanup(hark.kill9)
        return hark

    def start_http_origin(self):
        origin = HttpOrigin()
        self.addCleanup(origin.close)
        return origin

    def start_raw_origin(self, handler=None):
        origin = RawOrigin(handler)
        self.addCleanup(origin.close)
        return origin


# -- HTTP/1.1 message parsing -----------------------------------------------------------------

class Message:
    """One HTTP/1.1 message as read off the wire."""

    def __init__(self):
        self.start_line = ""
        self.headers = []      # [(name, value)] in wire order and case
        self.body = b""        # after removing chunked framing
        self.trailers = []     # [(name, value)]
        self.raw = b""         # every byte of the message as received
        self.chunked = False

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_names(self):
        return [k for k, _ in self.headers]

    @property
    def status(self):
        return int(self.start_line.split(" ")[1])


class Reader:
    """Buffered reads from a socket that keep every byte read."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buf += data
        return bool(data)

    def readline(self, limit=1 << 20):
        while b"\n" not in self.buf:
            if len(self.buf) > limit or not self._fill():
                break
        i = self.buf.find(b"\n")
        if i < 0:
            line, self.buf = self.buf, b""
        else:
            line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return line

    def read_exact(self, n, sink=None):
        """Reads n bytes; with `sink` (a callable) streams them instead of returning them."""
        out = []
        while n > 0:
            if not self.buf and not self._fill():
                raise EOFError("connection closed with %d bytes missing" % n)
            piece, self.buf = self.buf[:n], self.buf[n:]
            n -= len(piece)
            if sink:
                sink(piece)
            else:
                out.append(piece)
        return b"".join(out)

    def read_to_eof(self, sink=None):
        out = []
        while True:
            if self.buf:
                piece, self.buf = self.buf, b""
                if sink:
                    sink(piece)
                else:
                    out.append(piece)
            if not self._fill():
                return b"".join(out)


def _parse_fields(lines):
    fields = []
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        fields.append((name, value.strip()))
    return fields


def read_message(reader, response=False, request_method="GET", body_sink=None):
    """Reads one message from a Reader. Returns a Message, or None on a clean EOF before the
    first byte. A response without length or chunking is read up to EOF (close-delimited).
    With `body_sink` the body is passed to it piece by piece (and not kept, nor kept in raw)."""
    msg = Message()
    raw = []
    line = reader.readline()
    while line in (b"\r\n", b"\n") and not response:  # RFC 9112 §2.2: ignore leading CRLF
        line = reader.readline()
    if not line:
        return None
    raw.append(line)
    msg.start_line = line.decode("latin-1").rstrip("\r\n")
    head = []
    while True:
        line = reader.readline()
        if not line:
            raise EOFError("connection closed inside the header section")
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            break
        head.append(line.rstrip(b"\r\n"))
    msg.headers = _parse_fields(head)
    status = msg.status if response else None
    te = (msg.header("Transfer-Encoding") or "").lower()
    length = msg.header("Content-Length")
    body = []
    keep = body_sink is None

    def take(piece):
        if keep:
            body.append(piece)
            raw.append(piece)
        else:
            body_sink(piece)

    no_body = response and (request_method == "HEAD" or status in (204, 304) or 100 <= status < 200
                            or (request_method == "CONNECT" and 200 <= status < 300))
    if no_body:
        pass
    elif "chunked" in te:
        msg.chunked = True
        while True:
            size_line = reader.readline()
            if not size_line:
                raise EOFError("connection closed inside a chunked body")
            raw.append(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            take(reader.read_exact(size))
            raw.append(reader.read_exact(2))
        trailer = []
        while True:
            line = reader.readline()
            if not line:
                raise EOFError("connection closed inside the trailer section")
            raw.append(line)
            if line in (b"\r\n", b"\n"):
                break
            trailer.append(line.rstrip(b"\r\n"))
        msg.trailers = _parse_fields(trailer)
    elif length is not None:
        n = int(length)
        if keep:
            take(reader.read_exact(n))
        else:
            reader.read_exact(n, sink=body_sink)
    elif response:
        if keep:
            take(reader.read_to_eof())
        else:
            reader.read_to_eof(sink=body_sink)
    msg.body = b"".join(body)
    msg.raw = b"".join(raw)
    return msg


def connect(port, timeout=10):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def raw_exchange(port, data, timeout=10, request_method="GET"):
    """Sends raw request bytes on a new connection and reads one response (a Message)."""
    with connect(port, timeout) as sock:
        sock.sendall(data)
        return read_message(Reader(sock), response=True, request_method=request_method)


class RawClient:
    """A client connection to the proxy that sends bytes and reads responses one by one."""

    def __init__(self, port, timeout=10):
        self.sock = connect(port, timeout)
        self.reader = Reader(self.sock)

    def send(self, data):
        self.sock.sendall(data)

    def response(self, request_method="GET", body_sink=None):
        return read_message(self.reader, response=True, request_method=request_method,
                            body_sink=body_sink)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- deterministic payloads -------------------------------------------------------------------

BLOCK = 64 * 1024
_BASE_BLOCK = random.Random(20240601).randbytes(BLOCK)


def pattern_chunks(size):
    """Yields `size` deterministic bytes in blocks of 64 KiB; every block differs (it starts
    with its index), so that a lost, duplicated or reordered block changes the hash."""
    index = 0
    while size > 0:
        block = index.to_bytes(8, "big") + _BASE_BLOCK[8:]
        piece = block[:min(size, BLOCK)]
        yield piece
        size -= len(piece)
        index += 1


def pattern_sha256(size):
    h = hashlib.sha256()
    for piece in pattern_chunks(size):
        h.update(piece)
    return h.hexdigest()


# -- origins ----------------------------------------------------------------------------------

GZIP_TEXT = ("Hark decodes content-encoded bodies for the API. " * 40).encode()


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    """Routes of HttpOrigin:
      GET  /hello…          200 text "hello"
      GET  /status/N        status N, text body
      GET  /bytes?n=N       N pattern bytes (Content-Length)
      GET  /gzip            GZIP_TEXT gzip-encoded
      GET  /sse             text/event-stream, chunked: event one, 1.5 s pause, event two
      POST /echo…           echoes the request body (same Content-Type)
      POST|PUT /upload      reads the body streaming; replies {"size", "sha256"} as JSON
    Every request is appended to server.requests as (method, path, headers, body_sha256, size).
    """

    protocol_version = "HTTP/1.1"
    # Head and body are separate writes: without this, Nagle + delayed ACK add 40 ms each.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _read_body(self, sink):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                sink(self.rfile.read(size))
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            piece = self.rfile.read(min(left, 1 << 20))
            if not piece:
                return
            sink(piece)
            left -= len(piece)

    def _record(self, body_hash, size):
        self.server.requests.append((self.command, self.path, list(self.headers.items()),
                                     body_hash, size))

    def _send(self, status, body, ctype="text/plain; charset=utf-8", extra=()):
        # 204 and 304 have no content (RFC 9110 §15.3.5, §15.4.5): no body, no Content-Length
        # (clients such as Node 18's wait for the 10 bytes a Content-Length announced there).
        no_content = status in (204, 304)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if not no_content:
            self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and not no_content:
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        self._record(None, 0)
        if url.path.startswith("/hello"):
            self._send(200, b"hello")
        elif url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self._send(code, ("status %d" % code).encode())
        elif url.path == "/bytes":
            n = int(query["n"][0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            for piece in pattern_chunks(n):
                self.wfile.write(piece)
        elif url.path == "/gzip":
            self._send(200, gzip.compress(GZIP_TEXT), extra=[("Content-Encoding", "gzip")])
        elif url.path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, event in enumerate((b"data: one\n\n", b"data: two\n\n")):
                if i:
                    time.sleep(1.5)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"no such route")

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        h = hashlib.sha256()
        size = [0]
        keep = url.path.startswith("/echo")
        kept = []

        def sink(piece):
            h.update(piece)
            size[0] += len(piece)
            if keep:
                kept.append(piece)

        self._read_body(sink)
        self._record(h.hexdigest(), size[0])
        if url.path.startswith("/echo"):
            self._send(200, b"".join(kept),
                       ctype=self.headers.get("Content-Type") or "application/octet-stream")
        elif url.path.startswith("/upload"):
            body = json.dumps({"size": size[0], "sha256": h.hexdigest()}).encode()
            self._send(200, body, ctype="application/json")
        else:
            self._send(404, b"no such route")

    do_PUT = do_POST


class HttpOrigin:
    """A threading HTTP/1.1 origin on 127.0.0.1:<free port> (see _OriginHandler)."""

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OriginHandler)
        self.server.daemon_threads = True
        self.server.requests = []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.server.requests

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def default_raw_response(request):
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class RawOrigin:
    """A socket origin that records the exact bytes of each request and answers with scripted
    bytes. `handler(request: Message) -> bytes | None`: the raw response, or None to keep the
    connection open without answering (until close()). Keep-alive: requests on one connection
    are served in turn until the peer closes. `requests` holds every parsed Message."""

    def __init__(self, handler=None):
        self.handler = handler or default_raw_response
        self.requests = []
        self.connections = 0
        self._closing = threading.Event()
        self._socks = []
        self._lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _accept_loop(self):
        while not self._closing.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        sock.settimeout(30)
        reader = Reader(sock)
        try:
            while not self._closing.is_set():
                msg = read_message(reader)
                if msg is None:
                    return
                with self._lock:
                    self.requests.append(msg)
                reply = self.handler(msg)
                if reply is None:
                    self._closing.wait(60)
                    return
                sock.sendall(reply)
                if b"connection: close" in reply.lower():
                    return
        except (OSError, EOFError, ValueError):
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def wait_for_requests(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        if len(self.requests) < n:
            raise AssertionError("origin got %d requests, expected %d" % (len(self.requests), n))
        return self.requests

    def close(self):
        self._closing.set()
        self.listener.close()
        with self._lock:
            for sock in self._socks:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        self.thread.join(timeout=2)


def free_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- curl -------------------------------------------------------------------------------------

def curl(args, proxy_port=None, timeout=60, input=None):
    """Runs curl (no proxy environment, `--noproxy ''` so -x applies to every host).
    Returns CompletedProcess with bytes stdout/stderr."""
    cmd = ["curl", "--silent", "--show-error", "--noproxy", ""]
    if proxy_port is not None:
        cmd += ["-x", "http://127.0.0.1:%d" % proxy_port]
    cmd += list(args)
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=clean_env())


ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
SESSION_NAME_RE = re.compile(r"^Session \d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2} (AM|PM)$")


def all_entry_urls(hark):
    """Every entry URL of the active session, page by page (duplicates kept)."""
    urls = []
    cursor = None
    for _ in range(1000):
        path = "/api/sessions/active/entries?limit=1000"
        if cursor:
            path += "&cursor=" + cursor
        page = hark.api_ok("GET", path)
        urls.extend(e["url"] for e in page["entries"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    return urls


def load_then_kill9(hark, origin, seconds, workers=4, per_worker=None):
    """Keep-alive GETs of /hello through `hark` from `workers` threads (each at most
    `per_worker` requests) for `seconds`, then `kill -9`. Returns (completed, killed_at):
    (monotonic time, url) of every exchange whose answer the client read, and when the kill
    was sent."""
    completed = []
    stop = threading.Event()

    def more(i):
        return not stop.is_set() and (per_worker is None or i < per_worker)

    def client(worker):
        i = 0
        while more(i):
            conn = http.client.HTTPConnection("127.0.0.1", hark.proxy_port, timeout=5)
            try:
                while more(i):
                    url = origin.url("/hello?w=%d&i=%d" % (worker, i))
                    i += 1
                    conn.request("GET", url)
                    resp = conn.getresponse()
                    if (resp.status, resp.read()) == (200, b"hello"):
                        completed.append((time.monotonic(), url))
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    killed_at = time.monotonic()
    hark.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    return completed, killed_at


# -- TLS: test certificates (openssl CLI) and TLS origins -------------------------------------

import ssl  # noqa: E402  (kept with the TLS helpers it serves)


def openssl(args, input=None, timeout=30, check=True):
    """Runs `openssl ARGS`; returns CompletedProcess (text mode). Skips when openssl is missing;
    with `check`, fails with openssl's stderr on a non-zero exit."""
    if shutil.which("openssl") is None:
        raise missing("the openssl CLI is not installed")
    proc = subprocess.run(["openssl"] + list(args), input=input, capture_output=True, text=True,
                          timeout=timeout, env=clean_env())
    if check and proc.returncode != 0:
        raise AssertionError("openssl %s failed (%d):\n%s%s"
                             % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


class TestPki:
    """A throw-away PKI in a temp dir, made with the openssl CLI (ECDSA P-256 keys):
    `ca_pem`/`ca_key` (CN "Hark Test Origin CA") and leaves made by leaf(). All files PEM."""

    def __init__(self, name="Hark Test Origin CA"):
        self.dir = make_temp_dir("hark-pki-")
        self.ca_key = os.path.join(self.dir, "ca-key.pem")
        self.ca_pem = os.path.join(self.dir, "ca.pem")
        self._serial = 1
        openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", self.ca_key, "-out", self.ca_pem, "-days", "30",
                 "-subj", "/CN=" + name,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash"])

    def leaf(self, name, sans=("DNS:localhost", "IP:127.0.0.1")):
        """A leaf for `sans` signed by this CA; returns (cert_path, key_path)."""
        base = os.path.join(self.dir, name)
        key, csr, pem, ext = base + "-key.pem", base + ".csr", base + ".pem", base + ".ext"
        openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + name])
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" % ",".join(sans))
        self._serial += 1
        openssl(["x509", "-req", "-in", csr, "-CA", self.ca_pem, "-CAkey", self.ca_key,
                 "-set_serial", str(self._serial), "-days", "20", "-extfile", ext, "-out", pem])
        return pem, key


_shared_pki = []


def shared_test_pki():
    """One TestPki per test process (made on first use) with a leaf `localhost`
    (DNS:localhost, IP:127.0.0.1): attributes localhost_pem/localhost_key."""
    if not _shared_pki:
        pki = TestPki()
        pki.localhost_pem, pki.localhost_key = pki.leaf("localhost")
        _shared_pki.append(pki)
    return _shared_pki[0]


class _TlsOriginServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer whose connections are TLS; the handshake runs in the connection's
    thread (a client that stalls or sends garbage blocks nobody else)."""

    daemon_threads = True

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            tls = self.tls_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            self.handshake_failures.append(repr(exc))
            return
        self.handshakes.append({"alpn": tls.selected_alpn_protocol(), "version": tls.version(),
                                "sni": self.last_sni.get(threading.get_ident())})
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class TlsOrigin(HttpOrigin):
    """HttpOrigin over TLS on 127.0.0.1:<free port> serving `cert_pem`/`key_pem`, advertising
    `alpn` (a list, or None for no ALPN extension). `handshakes` holds, per completed handshake,
    {"alpn", "version", "sni"} as this server saw them; `handshake_failures` the errors."""

    def __init__(self, cert_pem, key_pem, alpn=("http/1.1",)):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_pem, key_pem)
        if alpn is not None:
            ctx.set_alpn_protocols(list(alpn))
        self.server = _TlsOriginServer(("127.0.0.1", 0), _OriginHandler)
        self.server.tls_context = ctx
        self.server.requests = []
        self.server.handshakes = []
        self.server.handshake_failures = []
        self.server.last_sni = {}

        def remember_sni(sock, name, _ctx):
            self.server.last_sni[threading.get_ident()] = name

        ctx.sni_callback = remember_sni
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def handshakes(self):
        return self.server.handshakes

    @property
    def handshake_failures(self):
        return self.server.handshake_failures

    def url(self, path, host="localhost"):
        return "https://%s:%d%s" % (host, self.port, path)
