"""TLS interception (SPEC §3, §6.2 `tls`): forged leaves signed by Hark's CA, upstream
verification (502 upstream_cert_invalid), ALPN mirroring, passthrough, JA3/JA4 on entries, and
clients that misbehave during the handshake. Origins are local Python TLS servers whose
certificates come from a throw-away CA made with the openssl CLI."""

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import time
import unittest

from harklib import (ULID_RE, Reader, TestPki, TlsOrigin, clean_env, connect, curl, make_temp_dir,
                     missing, openssl, read_message, shared_test_pki, start_hark)

JA3_HASH_RE = re.compile(r"^[0-9a-f]{32}$")
JA4_RE = re.compile(r"^t1[23][di]\d{4}(h1|h2|00)_[0-9a-f]{12}_[0-9a-f]{12}$")
# Extra SAN on the main origin's certificate: not the SNI, so only sniffing can put it in the leaf.
SNIFFED_SAN = "alt.hark.test"
CURL_CERT_ERROR = 60          # CURLE_PEER_FAILED_VERIFICATION
UNTRUSTED_PREFIX = "hark: certificate of localhost is not trusted:"
# OpenSSL names (as curl -v prints them) of the TLS 1.2 suites an ECDSA leaf can negotiate.
TLS12_IANA = {
    "ECDHE-ECDSA-AES256-GCM-SHA384": (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    "ECDHE-ECDSA-AES128-GCM-SHA256": (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    "ECDHE-ECDSA-CHACHA20-POLY1305": (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
}
TLS13_SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
                0x1303: "TLS_CHACHA20_POLY1305_SHA256"}
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def hark_ca(hark):
    return os.path.join(hark.data_dir, "ca", "ca.pem")


def s_client(proxy_port, host, port, extra=(), timeout=15):
    """`openssl s_client` through the proxy (CONNECT host:port); stdin closed, so it handshakes
    and quits. Returns CompletedProcess (text)."""
    args = ["s_client", "-proxy", "127.0.0.1:%d" % proxy_port, "-connect", "%s:%d" % (host, port),
            "-showcerts"] + list(extra)
    return openssl(args, timeout=timeout, check=False)


def first_cert(s_client_output, directory, name):
    """Saves the first certificate s_client printed (the leaf) to directory/name; returns the path."""
    certs = PEM_RE.findall(s_client_output)
    if not certs:
        raise AssertionError("s_client printed no certificate:\n" + s_client_output[-3000:])
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(certs[0] + "\n")
    return path


def x509_ext(pem, ext):
    """The text of one extension (`openssl x509 -ext`), header line removed."""
    out = openssl(["x509", "-in", pem, "-noout", "-ext", ext]).stdout
    return "\n".join(out.splitlines()[1:]).strip()


def key_id_hex(text):
    """The hex bytes of a key identifier printed by openssl (with or without `keyid:`)."""
    m = re.search(r"((?:[0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2})", text)
    if not m:
        raise AssertionError("no key identifier in %r" % text)
    return m.group(1).upper()


def cert_dates(pem):
    out = openssl(["x509", "-in", pem, "-noout", "-startdate", "-enddate"]).stdout
    fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return (ssl.cert_time_to_seconds(fields["notBefore"].strip()),
            ssl.cert_time_to_seconds(fields["notAfter"].strip()))


def pubkey(pem):
    return openssl(["x509", "-in", pem, "-noout", "-pubkey"]).stdout


def split_response(raw):
    """(status, {lower-case name: value}, body) of one HTTP/1.1 response as curl -i printed it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ")[1]), headers, body


def client_hello_bytes(server_hostname="localhost", alpn=("http/1.1",)):
    """The bytes of a real ClientHello (Python's ssl stack), made without any socket."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16", hello[:16]
    return hello


def read_until_closed(sock, seconds):
    """Reads until the peer closes (returns the bytes) or `seconds` pass (returns None)."""
    deadline = time.monotonic() + seconds
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            piece = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError):
            return data
        if not piece:
            return data
        data += piece
    return None


class TlsTestBase(unittest.TestCase):
    """Shared helpers; subclasses set cls.hark and cls.origin."""

    def curl(self, args, hark=None, ca=None, ok=True, **kwargs):
        """curl through `hark` (default cls.hark) trusting `ca` (default Hark's CA)."""
        hark = hark or self.hark
        result = curl(["--cacert", ca or hark_ca(hark)] + list(args), hark.proxy_port, **kwargs)
        if ok:
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def assert_still_serving(self, hark=None, origin=None):
        """An intercepted HTTPS request still works, the daemon runs and reports health ok."""
        hark = hark or self.hark
        origin = origin or self.origin
        url = origin.url("/hello?after=%d" % time.monotonic_ns())
        result = self.curl(["--max-time", "10", url], hark=hark, ok=False)
        self.assertEqual((result.returncode, result.stdout), (0, b"hello"),
                         "the proxy stopped serving HTTPS: %r" % result.stderr)
        self.assertTrue(hark.alive(), "hark exited:\n" + hark.stderr()[-3000:])
        self.assertEqual(hark.api_ok("GET", "/api/health")["status"], "ok")


class TlsInterceptTest(TlsTestBase):
    """One hark trusting the test CA (--upstream-ca), several origins."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None:
            raise missing("curl is not installed")
        cls.pki = shared_test_pki()
        cert, key = cls.pki.leaf("sniffed", sans=("DNS:localhost", "DNS:" + SNIFFED_SAN,
                                                  "IP:127.0.0.1"))
        cls.origin = TlsOrigin(cert, key, alpn=["http/1.1"])
        cls.addClassCleanup(cls.origin.close)
        cls.origin_h2 = TlsOrigin(cls.pki.localhost_pem, cls.pki.localhost_key,
                                  alpn=["h2", "http/1.1"])
        cls.addClassCleanup(cls.origin_h2.close)
        cls.origin_no_alpn = TlsOrigin(cls.pki.localhost_pem, cls.pki.localhost_key, alpn=None)
        cls.addClassCleanup(cls.origin_no_alpn.close)
        cert, key = cls.pki.leaf("other-name", sans=("DNS:other.hark.test",))
        cls.origin_wrong_name = TlsOrigin(cert, key)
        cls.addClassCleanup(cls.origin_wrong_name.close)
        cls.hark = start_hark(["--upstream-ca", cls.pki.ca_pem])
        cls.addClassCleanup(cls.hark.kill9)
        cls.tmp = make_temp_dir("hark-tls-")

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def assert_tls_object(self, tls):
        self.assertIsInstance(tls, dict)
        self.assertRegex(tls["connectionId"] or "", ULID_RE)
        self.assertIn(tls["tlsVersion"]["name"], ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(tls["tlsVersion"]["value"],
                         {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}[tls["tlsVersion"]["name"]])
        self.assertIsInstance(tls["cipherSuite"]["value"], int)
        self.assertTrue(tls["cipherSuite"]["name"], tls["cipherSuite"])
        ja3 = tls["ja3"]
        self.assertRegex(ja3["hash"], JA3_HASH_RE)
        self.assertEqual(hashlib.md5(ja3["string"].encode()).hexdigest(), ja3["hash"],
                         "ja3.hash is not the MD5 of ja3.string")
        self.assertRegex(ja3["string"], r"^\d+,[\d-]*,[\d-]*,[\d-]*,[\d-]*$")
        ja4 = tls["ja4"]
        self.assertRegex(ja4["hashed"], JA4_RE)
        # ja4_r = a_ciphers_extensions_sigalgs; ja4 = a_sha256(ciphers)[:12]_sha256(ext_sigalgs)[:12]
        parts = ja4["raw"].split("_")
        self.assertEqual(len(parts), 4, ja4["raw"])
        self.assertEqual(parts[0], ja4["hashed"].split("_")[0], "ja4 raw/hashed prefixes differ")
        self.assertEqual(hashlib.sha256(parts[1].encode()).hexdigest()[:12],
                         ja4["hashed"].split("_")[1], "ja4 cipher hash does not match ja4_r")
        self.assertEqual(hashlib.sha256(("%s_%s" % (parts[2], parts[3])).encode())
                         .hexdigest()[:12], ja4["hashed"].split("_")[2],
                         "ja4 extension hash does not match ja4_r")

    # -- the happy path -------------------------------------------------------------------------

    def test_https_request_is_relayed_and_recorded_with_tls(self):
        url = self.origin.url("/hello?case=basic")
        result = self.curl(["-v", url])
        self.assertEqual(result.stdout, b"hello")
        # curl's view of the client leg: "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
        m = re.search(r"SSL connection using (\S+) / (\S+)", result.stderr.decode())
        self.assertIsNotNone(m, result.stderr)
        self.assertIn("issuer: O=Hark", result.stderr.decode())

        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["url"], url)
        self.assertIsNone(e["error"])
        self.assertEqual(e["request"]["path"], "/hello?case=basic")
        self.assertIn(["Host", "localhost:%d" % self.origin.port], e["request"]["headers"])
        self.assertEqual(e["response"]["statusCode"], 200)
        self.assertEqual(e["response"]["bodySize"], 5)
        self.assertEqual(e["remoteAddr"], {"ip": "127.0.0.1", "port": self.origin.port})
        tls = e["tls"]
        self.assert_tls_object(tls)
        self.assertEqual(tls["tlsVersion"]["name"], m.group(1), "not the version curl negotiated")
        if m.group(1) == "TLSv1.3":
            self.assertEqual(tls["cipherSuite"]["name"], m.group(2))
            self.assertEqual(TLS13_SUITES.get(tls["cipherSuite"]["value"]), m.group(2))
        # curl offers h2 and http/1.1 in its hello, whatever the origin speaks.
        self.assertEqual(tls["ja4"]["hashed"][:4], "t13d")
        self.assertEqual(tls["ja4"]["hashed"][8:10], "h2")
        # A new upstream handshake has its duration; a pooled upstream connection has none
        # (test_upstream_tls_connections_are_pooled_across_clients).
        ssl_ms = e["timings"]["ssl"]
        if ssl_ms is not None:
            self.assertGreaterEqual(ssl_ms, 0)
            self.assertLess(ssl_ms, 10000)
        body = self.hark.api("GET", "/api/sessions/active/entries/%s/response/body" % e["id"])
        self.assertEqual((body[0], body[2]), (200, b"hello"))
        # The origin got the client's SNI over TLS.
        self.assertIn("localhost", [h["sni"] for h in self.origin.handshakes])

    def test_tls12_client_gets_iana_names(self):
        url = self.origin.url("/hello?case=tls12")
        result = self.curl(["-v", "--tls-max", "1.2", "--http1.1", url])
        self.assertEqual(result.stdout, b"hello")
        m = re.search(r"SSL connection using (\S+) / (\S+)", result.stderr.decode())
        self.assertEqual(m.group(1), "TLSv1.2", result.stderr)
        e = self.hark.wait_for_entry(url)
        tls = e["tls"]
        self.assert_tls_object(tls)
        self.assertEqual(tls["tlsVersion"], {"value": 0x0303, "name": "TLSv1.2"})
        if m.group(2) in TLS12_IANA:
            value, name = TLS12_IANA[m.group(2)]
            self.assertEqual(tls["cipherSuite"], {"value": value, "name": name})
        self.assertTrue(tls["cipherSuite"]["name"].startswith("TLS_"), tls["cipherSuite"])
        self.assertEqual(tls["ja4"]["hashed"][:4], "t12d")
        self.assertEqual(tls["ja4"]["hashed"][8:10], "h1")  # --http1.1: ALPN http/1.1 only
        self.assertTrue(tls["ja3"]["string"].startswith("771,"))

    def test_connection_id_per_tls_connection(self):
        urls = [self.origin.url("/hello?case=conn-a1"), self.origin.url("/hello?case=conn-a2")]
        result = self.curl(["-w", " %{num_connects}\n"] + urls)
        self.assertEqual(result.stdout, b"hello 1\nhello 0\n", "curl did not reuse its connection")
        first, second = (self.hark.wait_for_entry(u) for u in urls)
        self.assertRegex(first["tls"]["connectionId"] or "", ULID_RE)
        self.assertEqual(first["tls"]["connectionId"], second["tls"]["connectionId"])
        self.assertNotEqual(first["id"], second["id"])

        other = self.origin.url("/hello?case=conn-b")
        self.curl([other])
        third = self.hark.wait_for_entry(other)
        self.assertRegex(third["tls"]["connectionId"] or "", ULID_RE)
        self.assertNotEqual(third["tls"]["connectionId"], first["tls"]["connectionId"])

    def test_upstream_tls_connections_are_pooled_across_clients(self):
        origin = TlsOrigin(self.pki.localhost_pem, self.pki.localhost_key, alpn=["http/1.1"])
        self.addCleanup(origin.close)
        # One worker: pools are per worker thread, and clients are spread over the workers.
        hark = start_hark(["--upstream-ca", self.pki.ca_pem, "--workers", "1"])
        self.addCleanup(hark.kill9)
        urls = [origin.url("/hello?case=pool-%d" % i) for i in range(3)]
        for url in urls:  # three clients, one after the other, each with its own connection
            self.assertEqual(self.curl([url], hark=hark).stdout, b"hello")
        entries = [hark.wait_for_entry(u) for u in urls]
        self.assertEqual(len(origin.handshakes), 1, "the upstream connection was not reused")
        self.assertEqual(len({e["tls"]["connectionId"] for e in entries}), 3)
        first, later = entries[0], entries[1:]
        self.assertIsInstance(first["timings"]["ssl"], (int, float))
        self.assertIsInstance(first["timings"]["connect"], (int, float))
        for e in later:
            self.assertEqual((e["timings"]["ssl"], e["timings"]["connect"]), (None, None), e)
            # The leaf still carries the origin's names, learnt from the pooled connection.
            self.assertEqual(e["response"]["statusCode"], 200)
        # A client asking for another ALPN list gets its own upstream connection.
        self.assertEqual(self.curl(["--http1.1", "--no-alpn", urls[0] + "&alpn=none"],
                                   hark=hark).stdout, b"hello")
        self.assertEqual(len(origin.handshakes), 2)
        hark.stop()

    def test_ip_literal_without_sni(self):
        # curl sends no SNI for an IP address: the leaf needs an IP SAN for the CONNECT target.
        url = "https://127.0.0.1:%d/hello?case=ip" % self.origin.port
        result = self.curl([url])
        self.assertEqual(result.stdout, b"hello")
        e = self.hark.wait_for_entry(url)
        self.assert_tls_object(e["tls"])
        self.assertEqual(e["tls"]["ja4"]["hashed"][3], "i", "no SNI was sent: JA4 must say 'i'")
        self.assertEqual(e["response"]["statusCode"], 200)

    # -- ALPN ------------------------------------------------------------------------------------

    def test_alpn_follows_the_origin(self):
        h1 = s_client(self.hark.proxy_port, "localhost", self.origin.port,
                      ["-servername", "localhost", "-alpn", "h2,http/1.1"])
        self.assertIn("ALPN protocol: http/1.1", h1.stdout, h1.stdout[-2000:] + h1.stderr)

        none = s_client(self.hark.proxy_port, "localhost", self.origin_no_alpn.port,
                        ["-servername", "localhost", "-alpn", "h2,http/1.1"])
        self.assertIn("No ALPN negotiated", none.stdout, none.stdout[-2000:] + none.stderr)
        self.assertEqual([h["alpn"] for h in self.origin_no_alpn.handshakes][-1:], [None])
        url = self.origin_no_alpn.url("/hello?case=no-alpn")
        result = self.curl(["-w", " %{http_version}", url])
        self.assertEqual(result.stdout, b"hello 1.1")

    def test_client_offering_only_http11_gets_http11_from_an_h2_capable_origin(self):
        # Hark offers the origin exactly what the client offered (SPEC §4): http/1.1 only here,
        # so this origin, which prefers h2, picks http/1.1.
        url = self.origin_h2.url("/hello?case=h2-origin")
        result = self.curl(["--http1.1", "-w", " %{http_version}", url])
        self.assertEqual(result.stdout, b"hello 1.1", result.stderr)
        self.assertEqual(self.origin_h2.handshakes[-1]["alpn"], "http/1.1")
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["httpVersion"], "HTTP/1.1")
        self.assertEqual(e["upstreamHttpVersion"], "HTTP/1.1")
        self.assertEqual(e["tls"]["ja4"]["hashed"][8:10], "h1")  # what the client offered

    # -- the forged leaf ------------------------------------------------------------------------

    def fetch_leaf(self, host, name, extra=()):
        out = s_client(self.hark.proxy_port, host, self.origin.port, extra)
        self.assertIn("CONNECTED", out.stdout, out.stderr)
        return first_cert(out.stdout, self.tmp, name)

    def test_forged_leaf_certificate(self):
        leaf = self.fetch_leaf("localhost", "leaf-localhost.pem", ["-servername", "localhost"])
        ca = hark_ca(self.hark)
        verified = openssl(["verify", "-CAfile", ca, leaf], check=False)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertIn("OK", verified.stdout)
        purpose = openssl(["verify", "-CAfile", ca, "-purpose", "sslserver", "-verify_hostname",
                           "localhost", leaf], check=False)
        self.assertEqual(purpose.returncode, 0, purpose.stdout + purpose.stderr)

        san = x509_ext(leaf, "subjectAltName")
        self.assertIn("DNS:localhost", san)
        self.assertIn("IP Address:127.0.0.1", san)  # sniffed from the origin's certificate
        self.assertIn("DNS:" + SNIFFED_SAN, san, "the origin certificate's SANs were not copied")
        self.assertIn("TLS Web Server Authentication", x509_ext(leaf, "extendedKeyUsage"))
        self.assertEqual(key_id_hex(x509_ext(leaf, "authorityKeyIdentifier")),
                         key_id_hex(x509_ext(ca, "subjectKeyIdentifier")), "AKI != CA SKI")
        self.assertIn("CA:FALSE", x509_ext(leaf, "basicConstraints"))

        not_before, not_after = cert_dates(leaf)
        now = time.time()
        self.assertLess(abs((now - not_before) - 86400), 3600,
                        "notBefore is not backdated by one day: %s" % time.ctime(not_before))
        self.assertLessEqual(not_after - not_before, 45 * 86400, "lifetime over 45 days")
        self.assertGreater(not_after, now + 86400)

        # One leaf key pair per process: the leaf of another name has the same public key.
        by_ip = self.fetch_leaf("127.0.0.1", "leaf-ip.pem", ["-noservername"])
        self.assertIn("IP Address:127.0.0.1", x509_ext(by_ip, "subjectAltName"))
        self.assertEqual(pubkey(by_ip), pubkey(leaf))
        self.assertEqual(openssl(["verify", "-CAfile", ca, by_ip], check=False).returncode, 0)

    def test_ca_certificate(self):
        ca = hark_ca(self.hark)
        self.assertIn("CA:TRUE", x509_ext(ca, "basicConstraints"))
        self.assertIn("critical", openssl(["x509", "-in", ca, "-noout", "-ext",
                                           "basicConstraints"]).stdout)
        usage = x509_ext(ca, "keyUsage")
        self.assertIn("Certificate Sign", usage)
        self.assertIn("CRL Sign", usage)
        key_id_hex(x509_ext(ca, "subjectKeyIdentifier"))
        self.assertIn("id-ecPublicKey", openssl(["x509", "-in", ca, "-noout", "-text"]).stdout)
        key = os.path.join(self.hark.data_dir, "ca", "ca-key.pem")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)

    # -- upstream verification with --upstream-ca -----------------------------------------------

    def test_hostname_mismatch_is_upstream_cert_invalid(self):
        # The origin's certificate is signed by the trusted CA but names only other.hark.test.
        url = self.origin_wrong_name.url("/hello?case=wrong-name")
        result = self.curl(["-i", "--suppress-connect-headers", url])
        status, headers, body = split_response(result.stdout)
        self.assertEqual(status, 502, result.stdout)
        self.assertEqual(headers.get("x-hark-error"), "upstream_cert_invalid")
        self.assertTrue(body.decode().startswith(UNTRUSTED_PREFIX), body)
        e = self.hark.wait_for_entry(url)
        self.assertEqual(e["error"]["code"], "upstream_cert_invalid")
        self.assertIsNone(e["response"])
        self.assertEqual(self.origin_wrong_name.requests, [])

    # -- other client stacks --------------------------------------------------------------------

    def test_node_client_fingerprint_differs_from_curl(self):
        node = shutil.which("node")
        if node is None:
            raise missing("node is not installed")
        curl_url = self.origin.url("/hello?case=fp-curl")
        self.curl([curl_url])
        node_path = "/hello?case=fp-node"
        result = subprocess.run(
            [node, "-e", NODE_CLIENT, str(self.hark.proxy_port), "localhost",
             str(self.origin.port), node_path, hark_ca(self.hark)],
            capture_output=True, text=True, timeout=30, env=clean_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        out = json.loads(result.stdout)
        self.assertEqual((out["status"], out["body"]), (200, "hello"))
        from_curl = self.hark.wait_for_entry(curl_url)["tls"]
        from_node = self.hark.wait_for_entry(self.origin.url(node_path))["tls"]
        self.assert_tls_object(from_node)
        self.assertNotEqual(from_node["ja3"]["hash"], from_curl["ja3"]["hash"])
        self.assertNotEqual(from_node["ja4"]["hashed"], from_curl["ja4"]["hashed"])
        self.assertEqual(from_node["ja4"]["hashed"][3:4], "d", "node sent SNI")
        self.assertEqual(from_node["ja4"]["hashed"][8:10], "00", "node offered no ALPN")
        self.assertNotEqual(from_node["connectionId"], from_curl["connectionId"])

    # -- clients that misbehave -----------------------------------------------------------------

    def open_tunnel(self, port):
        sock = connect(self.hark.proxy_port)
        sock.sendall(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (port, port))
        reader = Reader(sock)
        resp = read_message(reader, response=True, request_method="CONNECT")
        self.assertEqual(resp.status, 200, resp.raw)
        self.assertEqual(reader.buf, b"")
        return sock

    def test_garbage_tls_record(self):
        # A complete record of type handshake whose content is not a ClientHello.
        with self.open_tunnel(self.origin.port) as sock:
            sock.sendall(b"\x16\x03\x01\x00\x40" + bytes(range(0xA0, 0xE0)))
            rest = read_until_closed(sock, 10)
        self.assertIsNotNone(rest, "the connection stayed open after a garbage TLS record")
        self.assertTrue(rest == b"" or rest[:1] == b"\x15", "expected EOF or an alert: %r"
                        % rest[:64])
        self.assert_still_serving()

    def test_truncated_tls_records_then_close(self):
        hello = client_hello_bytes()
        for data in (b"\x16", b"\x16\x03\x01", b"\x16\x03\x01\xff\xff" + b"\x01" * 100,
                     hello[:len(hello) // 2], b"\x16\x03\x01\x00\x04\x01\x00\x00\x00"):
            with self.open_tunnel(self.origin.port) as sock:
                sock.sendall(data)
                time.sleep(0.05)
        self.assert_still_serving()

    def test_client_closing_mid_handshake(self):
        for wait_for_server_hello in (False, True):
            with self.open_tunnel(self.origin.port) as sock:
                sock.sendall(client_hello_bytes())
                if wait_for_server_hello:
                    sock.settimeout(10)
                    first = sock.recv(5)
                    self.assertEqual(first[:1], b"\x16", "no ServerHello from hark: %r" % first)
        # Closing abruptly (RST) in the middle of the handshake.
        with self.open_tunnel(self.origin.port) as sock:
            sock.sendall(client_hello_bytes())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.assert_still_serving()

    def test_tls10_only_client_hello(self):
        probe = openssl(["s_client", "-help"], check=False)
        if "-tls1 " not in probe.stdout + probe.stderr:
            self.skipTest("this openssl has no -tls1")
        out = s_client(self.hark.proxy_port, "localhost", self.origin.port,
                       ["-servername", "localhost", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"])
        if "no protocols available" in out.stderr:
            self.skipTest("this openssl cannot send a TLS 1.0 hello")
        self.assertIn("CONNECTED", out.stdout, out.stderr)
        self.assert_still_serving()

    def test_client_not_trusting_hark_ca(self):
        url = self.origin.url("/hello?case=untrusting-client")
        result = curl([url], self.hark.proxy_port)  # system store only: Hark's CA is unknown
        self.assertEqual(result.returncode, CURL_CERT_ERROR, result.stderr)
        self.assertIn("certificate", result.stderr.decode().lower())
        self.assert_still_serving()
        self.assertNotIn(url, [e["url"] for e in self.hark.entries()])


NODE_CLIENT = r"""
const http = require('http'), https = require('https'), tls = require('tls'), fs = require('fs');
const [proxyPort, host, port, path, caFile] = process.argv.slice(1);
const ca = fs.readFileSync(caFile);
setTimeout(() => { console.error('timeout'); process.exit(2); }, 20000).unref();
const req = http.request({host: '127.0.0.1', port: +proxyPort, method: 'CONNECT',
                          path: host + ':' + port, headers: {Host: host + ':' + port}});
req.on('connect', (res, socket) => {
  if (res.statusCode !== 200) { console.error('CONNECT ' + res.statusCode); process.exit(3); }
  // No `agent`: with one (even agent: false) Node ignores createConnection and connects directly.
  const r = https.request({host, port: +port, path,
                           createConnection: () => tls.connect({socket, servername: host, ca})},
    (resp) => {
      let body = '';
      resp.setEncoding('utf8');
      resp.on('data', (d) => { body += d; });
      resp.on('end', () => {
        console.log(JSON.stringify({status: resp.statusCode, body}));
        process.exit(0);
      });
    });
  r.on('error', (e) => { console.error(String(e)); process.exit(4); });
  r.end();
});
req.on('error', (e) => { console.error(String(e)); process.exit(5); });
req.end();
"""


class UpstreamVerificationTest(TlsTestBase):
    """Without --upstream-ca the test origin is untrusted; --ssl-insecure relays it anyway."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None:
            raise missing("curl is not installed")
        cls.pki = shared_test_pki()
        cls.origin = TlsOrigin(cls.pki.localhost_pem, cls.pki.localhost_key)
        cls.addClassCleanup(cls.origin.close)
        cls.hark = start_hark()
        cls.addClassCleanup(cls.hark.kill9)
        cls.other_ca = TestPki("Unrelated CA")
        cls.hark_other_ca = start_hark(["--upstream-ca", cls.other_ca.ca_pem])
        cls.addClassCleanup(cls.hark_other_ca.kill9)
        cls.insecure = start_hark(["--ssl-insecure"])
        cls.addClassCleanup(cls.insecure.kill9)

    @classmethod
    def tearDownClass(cls):
        for hark in (cls.hark, cls.hark_other_ca, cls.insecure):
            hark.stop()

    def assert_untrusted(self, hark, path):
        urls = [self.origin.url(path + "-1"), self.origin.url(path + "-2")]
        # Both requests on one TLS connection: each gets the synthetic 502.
        result = self.curl(["-i", "--suppress-connect-headers", "-w", "\n--END--\n"] + urls,
                           hark=hark)
        parts = result.stdout.split(b"\n--END--\n")
        self.assertEqual(len(parts), 3, result.stdout)
        for url, part in zip(urls, parts):
            status, headers, body = split_response(part)
            self.assertEqual(status, 502, part)
            self.assertEqual(headers.get("x-hark-error"), "upstream_cert_invalid")
            self.assertIn("text/plain", headers.get("content-type", ""))
            text = body.decode()
            self.assertTrue(text.startswith(UNTRUSTED_PREFIX), text)
            self.assertGreater(len(text.strip()), len(UNTRUSTED_PREFIX), "no reason given")
            e = hark.wait_for_entry(url)
            self.assertEqual(e["error"]["code"], "upstream_cert_invalid")
            self.assertTrue(e["error"]["message"].startswith(UNTRUSTED_PREFIX), e["error"])
            self.assertIsNone(e["response"])
            # The client handshake completed, so the entry knows its TLS details.
            self.assertRegex(e["tls"]["connectionId"] or "", ULID_RE)
            self.assertIn(e["tls"]["tlsVersion"]["name"], ("TLSv1.2", "TLSv1.3"))
        self.assertEqual([r for r in self.origin.requests if r[1].startswith(path)], [],
                         "a request reached the untrusted origin")

    def test_untrusted_origin_is_502(self):
        self.assert_untrusted(self.hark, "/hello?case=untrusted")
        self.assertTrue(self.hark.alive())

    def test_unrelated_upstream_ca_is_502(self):
        self.assert_untrusted(self.hark_other_ca, "/hello?case=other-ca")

    def test_ssl_insecure_relays(self):
        url = self.origin.url("/hello?case=insecure")
        result = self.curl([url], hark=self.insecure)
        self.assertEqual(result.stdout, b"hello")
        e = self.insecure.wait_for_entry(url)
        self.assertIsNone(e["error"])
        self.assertEqual(e["response"]["statusCode"], 200)
        self.assertRegex(e["tls"]["connectionId"] or "", ULID_RE)


class PassthroughTest(TlsTestBase):
    """--passthrough localhost: relayed byte for byte; 127.0.0.1 (same origin) is intercepted."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None:
            raise missing("curl is not installed")
        cls.pki = shared_test_pki()
        cls.origin = TlsOrigin(cls.pki.localhost_pem, cls.pki.localhost_key)
        cls.addClassCleanup(cls.origin.close)
        cls.hark = start_hark(["--passthrough", "localhost", "--upstream-ca", cls.pki.ca_pem])
        cls.addClassCleanup(cls.hark.kill9)

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def test_passthrough_host_sees_origin_certificate_and_is_not_recorded(self):
        url = self.origin.url("/hello?case=passthrough")
        # Trusting only the origin's CA: works only if the client sees the origin's own leaf.
        result = self.curl(["-v", url], ca=self.pki.ca_pem)
        self.assertEqual(result.stdout, b"hello")
        self.assertIn("issuer: CN=Hark Test Origin CA", result.stderr.decode())
        # And Hark's CA alone does not verify it.
        refused = self.curl([url], ok=False)
        self.assertEqual(refused.returncode, CURL_CERT_ERROR, refused.stderr)

        # The same origin through an intercepted name is recorded; the passthrough one is not.
        marker = "https://127.0.0.1:%d/hello?case=marker" % self.origin.port
        self.assertEqual(self.curl([marker]).stdout, b"hello")
        self.hark.wait_for_entry(marker)
        time.sleep(0.3)
        urls = [e["url"] for e in self.hark.entries()]
        self.assertEqual([u for u in urls if "passthrough" in u or "localhost" in u], [], urls)

    def test_passthrough_keeps_the_origin_alpn(self):
        out = s_client(self.hark.proxy_port, "localhost", self.origin.port,
                       ["-servername", "localhost", "-alpn", "h2,http/1.1"])
        summary = re.sub(PEM_RE, "<cert>", out.stdout)[:1500] + out.stderr[-500:]
        self.assertIn("ALPN protocol: http/1.1", out.stdout, summary)
        self.assertIn("issuer=CN = Hark Test Origin CA", out.stdout, summary)


if __name__ == "__main__":
    unittest.main()
