"""The load of the stress test and the soak (tests/integration/test_stress.py, bench/soak.py):
asyncio clients and origins in one thread, so that thousands of connections cost no threads.

Origins: a plain HTTP/1.1 origin (keep-alive, `GET /n/<size>` answers <size> bytes, any other
path 5 bytes; a WebSocket handshake is answered 101 and the bytes that follow are echoed) and
the same over TLS. Clients: correct ones (plain, HTTPS through CONNECT, WebSocket) that check
every answer and time it, and hostile ones (garbage, slowloris, reset mid-body, abrupt close)."""

import asyncio
import base64
import hashlib
import os
import random
import socket
import ssl
import struct
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"


# -- origin --------------------------------------------------------------------------------------

async def _read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return method, target, headers


_origin_writers = set()


def close_origin_connections():
    """Closes every connection the origins have open (Hark's pooled upstream ones included)."""
    for writer in list(_origin_writers):
        writer.close()


async def _origin_connection(reader, writer):
    _origin_writers.add(writer)
    try:
        while True:
            method, target, headers = await _read_head(reader)
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            if headers.get("upgrade", "").lower() == "websocket":
                accept = base64.b64encode(hashlib.sha1(
                    headers["sec-websocket-key"].encode() + WS_GUID).digest())
                writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                             b"\r\n\r\n")
                while True:  # echo each (short, masked) frame's payload, unmasked (RFC 6455)
                    b0, b1 = await reader.readexactly(2)
                    mask = await reader.readexactly(4)
                    payload = await reader.readexactly(b1 & 0x7F)
                    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                    writer.write(struct.pack("!BB", b0, len(data)) + data)
                    await writer.drain()
            size = 5
            if target.rsplit("/", 2)[-2:-1] == ["n"]:
                size = int(target.rsplit("/", 1)[1])
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError,
            KeyError, asyncio.CancelledError):
        pass  # a client gone, or the run over (asyncio.run cancels what is left)
    finally:
        _origin_writers.discard(writer)
        writer.close()


async def start_origin(tls_context=None):
    """An origin on 127.0.0.1:<free port>; returns (server, port)."""
    server = await asyncio.start_server(_origin_connection, "127.0.0.1", 0, ssl=tls_context,
                                        backlog=4096)
    return server, server.sockets[0].getsockname()[1]


# -- correct clients -----------------------------------------------------------------------------

async def _read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def http_client(proxy_port, origin_port, requests, latencies, errors, size=5):
    """`requests` GETs on one keep-alive connection through the proxy; checks each answer."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    except OSError as e:
        errors.append("connect: %r" % e)
        return
    try:
        for _ in range(requests):
            started = time.monotonic()
            writer.write(b"GET http://127.0.0.1:%d/n/%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                         % (origin_port, size, origin_port))
            status, body = await _read_response(reader)
            latencies.append(time.monotonic() - started)
            if status != 200 or body != b"x" * size:
                errors.append("http: %d %r" % (status, body[:40]))
                return
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        errors.append("http: %r" % e)
    finally:
        writer.close()


async def https_client(proxy_port, origin_port, requests, latencies, errors):
    """CONNECT, TLS with Hark's leaf (not verified here: the test is about load), then GETs."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        started = time.monotonic()
        writer.write(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
                     % (origin_port, origin_port))
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n")[0]:
            errors.append("connect: %r" % head[:60])
            return
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        await writer.start_tls(ctx, server_hostname="localhost")
        latencies.append(time.monotonic() - started)
        for _ in range(requests):
            started = time.monotonic()
            writer.write(b"GET /n/100 HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % origin_port)
            status, body = await _read_response(reader)
            latencies.append(time.monotonic() - started)
            if status != 200 or body != b"x" * 100:
                errors.append("https: %d" % status)
                return
        writer.close()
    except (OSError, asyncio.IncompleteReadError, ValueError, ssl.SSLError) as e:
        errors.append("https: %r" % e)


def _ws_frame(payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x82, 0x80 | len(payload)) + mask + masked


async def websocket_client(proxy_port, origin_port, messages, latencies, errors):
    """A WebSocket upgrade through the proxy, then `messages` frames echoed back."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        key = base64.b64encode(os.urandom(16))
        writer.write(b"GET http://127.0.0.1:%d/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n" % (origin_port, origin_port, key))
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            errors.append("ws: %r" % head[:60])
            return
        for i in range(messages):
            started = time.monotonic()
            payload = b"m%03d" % i
            writer.write(_ws_frame(payload))
            echoed = await reader.readexactly(2 + len(payload))
            latencies.append(time.monotonic() - started)
            if echoed[2:] != payload:
                errors.append("ws: echo differs")
                return
        writer.close()
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        errors.append("ws: %r" % e)


# -- hostile clients -----------------------------------------------------------------------------

async def garbage_client(proxy_port, rng):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000))) +
                     b"\r\n\r\n")
        await asyncio.wait_for(reader.read(4096), 5)
        writer.close()
    except (OSError, asyncio.TimeoutError):
        pass


async def slowloris_client(proxy_port, seconds):
    """A request head sent one byte at a time, never finished within `seconds`."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        deadline = time.monotonic() + seconds
        head = b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        i = 0
        while time.monotonic() < deadline:
            writer.write(head[i:i + 1] if i < len(head) else b"a")
            await writer.drain()
            i += 1
            await asyncio.sleep(0.2)
        writer.close()
    except OSError:
        pass


def _reset(writer):
    """Closes with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


async def reset_mid_body_client(proxy_port, origin_port):
    """A POST announcing 1 MB that resets after 10 KB."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(b"POST http://127.0.0.1:%d/upload HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     b"Content-Length: 1000000\r\n\r\n" % (origin_port, origin_port) +
                     b"y" * 10000)
        await writer.drain()
        await asyncio.sleep(0.05)
        _reset(writer)
    except OSError:
        pass


async def abrupt_close_client(proxy_port, origin_port):
    """A request, then a reset before the answer is read."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(b"GET http://127.0.0.1:%d/n/200000 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                     % (origin_port, origin_port))
        await writer.drain()
        _reset(writer)
    except OSError:
        pass


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def mixed_load(proxy_port, http_port, tls_port, connections, seed=1):
    """`connections` concurrent connections: 60 % correct (40 % plain, 10 % HTTPS, 10 %
    WebSocket), 40 % hostile. Returns (latencies of correct clients, their errors)."""
    rng = random.Random(seed)
    latencies, errors, tasks = [], [], []
    for i in range(connections):
        kind = i % 10
        if kind < 4:
            tasks.append(http_client(proxy_port, http_port, 5, latencies, errors))
        elif kind < 5:
            tasks.append(https_client(proxy_port, tls_port, 3, latencies, errors))
        elif kind < 6:
            tasks.append(websocket_client(proxy_port, http_port, 5, latencies, errors))
        elif kind < 7:
            tasks.append(garbage_client(proxy_port, rng))
        elif kind < 8:
            tasks.append(slowloris_client(proxy_port, 3))
        elif kind < 9:
            tasks.append(reset_mid_body_client(proxy_port, http_port))
        else:
            tasks.append(abrupt_close_client(proxy_port, http_port))
    await asyncio.gather(*tasks)
    return latencies, errors


# -- origins in their own process ----------------------------------------------------------------

def _origin_process(conn, cert_pem, key_pem):
    async def serve():
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert_pem, key_pem)
        http_server, http_port = await start_origin()
        tls_server, tls_port = await start_origin(tls)
        conn.send((http_port, tls_port))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "close-connections":
                close_origin_connections()
                await asyncio.sleep(0.1)
                conn.send("closed")
            else:
                http_server.close()
                tls_server.close()
                close_origin_connections()
                return

    asyncio.run(serve())


class OriginProcess:
    """The plain and TLS origins in a child process, so that the clients' work (TLS handshakes
    among it) does not delay the origins' answers, nor the other way round."""

    def __init__(self, cert_pem, key_pem):
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_origin_process, args=(child, cert_pem, key_pem),
                                    daemon=True)
        self._process.start()
        self.http_port, self.tls_port = self._conn.recv()

    def close_connections(self):
        self._conn.send("close-connections")
        self._conn.recv()

    def stop(self):
        if self._process.is_alive():
            self._conn.send("stop")
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
