"""Hark's ClientHello reader and JA3/JA4 fingerprints against a reference implementation.

The reference is the npm package read-tls-client-hello (run by ja_reference.js beside this file,
from tests/integration/node_modules). Hark's side is the tool hark_tls_fingerprint
($HARK_TLS_FINGERPRINT_TOOL, built from tests/fuzz). Both read the same bytes:
  - real ClientHellos captured from curl, `openssl s_client` and node connecting to a loopback
    listener run by the test (which reads the hello and hangs up);
  - hand-made hellos with GREASE values in every list, in one record (the reference reads only
    the first record) and, for Hark alone, fragmented over several records.
Where the reference departs from the FoxIO JA4 spec (technical_details/JA4.md), Hark follows
the spec: those cases are checked against the spec's values, not the reference's.

Skips when node, the npm package or the tool is missing (fails instead under
HARK_REQUIRE_TOOLS=1, as `hark.sh test` runs it).
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import unittest

from harklib import missing

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_SCRIPT = os.path.join(HERE, "ja_reference.js")
CAPTURE_TIMEOUT = 15.0


def find_tool():
    tool = os.environ.get("HARK_TLS_FINGERPRINT_TOOL", "")
    if not tool and os.environ.get("HARK_BINARY"):
        # hark sits at the top of the build tree; the tool in tests/fuzz below it.
        build = os.path.dirname(os.environ["HARK_BINARY"])
        tool = os.path.join(build, "tests", "fuzz", "hark_tls_fingerprint")
    if not tool or not os.access(tool, os.X_OK):
        raise missing("HARK_TLS_FINGERPRINT_TOOL is not set to hark_tls_fingerprint")
    return tool


def run_reference(hexes):
    if shutil.which("node") is None:
        raise missing("node is not installed")
    proc = subprocess.run(["node", REFERENCE_SCRIPT], input="\n".join(hexes) + "\n",
                          capture_output=True, text=True, timeout=120)
    if proc.returncode == 3:
        raise missing("npm package read-tls-client-hello is not installed: " +
                                proc.stderr.strip())
    if proc.returncode != 0:
        raise AssertionError("ja_reference.js failed: " + proc.stderr)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def run_hark(tool, hexes):
    proc = subprocess.run([tool], input="\n".join(hexes) + "\n", capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError("hark_tls_fingerprint failed: " + proc.stderr)
    return [json.loads(line) for line in proc.stdout.splitlines()]


# --- hand-made hellos -----------------------------------------------------------------------

def u8(v):
    return bytes([v & 0xff])


def u16(v):
    return (v & 0xffff).to_bytes(2, "big")


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def u16s(values):
    return b"".join(u16(v) for v in values)


def ext(kind, data=b""):
    return u16(kind) + vec16(data)


def sni(host):
    return ext(0, vec16(u8(0) + vec16(host.encode())))


def alpn(*names):
    return ext(16, vec16(b"".join(vec8(n.encode()) for n in names)))


def hello(ciphers, extensions, version=0x0303, session_id=b"", with_block=True):
    body = u16(version) + bytes(range(32)) + vec8(session_id) + vec16(u16s(ciphers)) + b"\x01\x00"
    if with_block:
        body += vec16(b"".join(extensions))
    return b"\x01" + len(body).to_bytes(3, "big") + body


def records(message, sizes=(), version=0x0301):
    out, pos = b"", 0
    for size in list(sizes) + [len(message)]:
        fragment = message[pos:pos + size]
        pos += len(fragment)
        out += b"\x16" + u16(version) + vec16(fragment)
        if pos == len(message):
            break
    return out


SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]


def chrome_like():
    """GREASE in ciphers, extensions (first and last), groups, key shares, versions, sigalgs."""
    return hello(
        [0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
         0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
        [ext(0x0a0a), sni("grease.example"), ext(23), ext(0xff01, b"\x00"),
         ext(10, vec16(u16s([0x6a6a, 0x11ec, 29, 23, 24]))), ext(11, vec8(b"\x00")),
         ext(35), alpn("h2", "http/1.1"), ext(5, b"\x01\x00\x00\x00\x00"),
         ext(13, vec16(u16s([0x3a3a] + SIGALGS))), ext(18),
         ext(51, vec16(u16(0x6a6a) + vec16(b"\x00") + u16(29) + vec16(bytes(32)))),
         ext(45, vec8(b"\x01")), ext(43, vec8(u16s([0x5a5a, 0x0304, 0x0303]))),
         ext(27, vec8(u16(2))), ext(17513, vec16(vec8(b"h2"))),
         ext(0xfe0d, b"\x00\x00\x01\x00\x01" + bytes(40)), ext(0x9a9a, b"\x00"),
         ext(21, bytes(30))],
        session_id=bytes(range(32)))


def firefox_like():
    return hello(
        [0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009,
         0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
        [sni("firefox.example"), ext(23), ext(0xff01, b"\x00"),
         ext(10, vec16(u16s([29, 23, 24, 25, 256, 257]))), ext(11, vec8(b"\x00")), ext(35),
         alpn("h2", "http/1.1"), ext(5, b"\x01\x00\x00\x00\x00"),
         ext(34, vec16(u16s([0x0403, 0x0503, 0x0603, 0x0203]))),
         ext(51, vec16(u16(29) + vec16(bytes(32)) + u16(23) + vec16(bytes(65)))),
         ext(43, vec8(u16s([0x0304, 0x0303]))), ext(13, vec16(u16s(SIGALGS + [0x0201]))),
         ext(45, vec8(b"\x01")), ext(28, u16(0x4001)), ext(21, bytes(100))])


def tls12_only():
    """No supported_versions: the version comes from legacy_version. GREASE ciphers only."""
    return hello([0x0a0a, 0xc02f, 0xc030, 0x009e, 0x00ff, 0xfafa],
                 [sni("legacy.example"), ext(11, vec8(b"\x00\x01\x02")),
                  ext(10, vec16(u16s([23, 24]))), ext(13, vec16(u16s([0x0401, 0x0201]))),
                  ext(0x2a2a, b"")])


def tls10_no_sni():
    return hello([0x002f, 0x0035, 0x000a], [ext(0xff01, b"\x00"), ext(35)], version=0x0301)


def http11_only_ip():
    return hello([0x1301, 0x0a0a], [alpn("http/1.1"), ext(43, vec8(u16s([0x0304]))),
                                    ext(51, vec16(u16(29) + vec16(bytes(32)))),
                                    ext(13, vec16(u16s([0x0807, 0x0a0a, 0x0804])))])


HAND_MADE = {
    "chrome_like": chrome_like,
    "firefox_like": firefox_like,
    "tls12_only": tls12_only,
    "tls10_no_sni": tls10_no_sni,
    "http11_only_ip": http11_only_ip,
}


# --- capture of real ClientHellos -----------------------------------------------------------

def read_client_hello(conn):
    """The TLS records that carry the first ClientHello the peer sends."""
    conn.settimeout(CAPTURE_TIMEOUT)
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
        message, pos = b"", 0
        while pos + 5 <= len(data):
            length = int.from_bytes(data[pos + 3:pos + 5], "big")
            if pos + 5 + length > len(data):
                break
            message += data[pos + 5:pos + 5 + length]
            pos += 5 + length
            if len(message) >= 4 and len(message) >= 4 + int.from_bytes(message[1:4], "big"):
                return data[:pos]


def capture(command_for_port):
    """Runs the client made by command_for_port(port) against a listener that reads its
    ClientHello and hangs up; returns the hello's records."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(CAPTURE_TIMEOUT)
        port = server.getsockname()[1]
        client = subprocess.Popen(command_for_port(port), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn, _ = server.accept()
            with conn:
                return read_client_hello(conn)
        finally:
            client.kill()
            client.wait(timeout=10)


NODE_CLIENT = ("const tls = require('tls');"
               "const s = tls.connect({host: '127.0.0.1', port: +process.argv[1],"
               " servername: 'example.test', ALPNProtocols: ['h2', 'http/1.1'],"
               " rejectUnauthorized: false});"
               "s.on('error', () => {});")

CLIENTS = {
    "curl": ("curl", lambda p: ["curl", "-sk", "--max-time", "10", "--resolve",
                                "example.test:%d:127.0.0.1" % p, "https://example.test:%d/" % p]),
    "curl_ip": ("curl", lambda p: ["curl", "-sk", "--max-time", "10", "https://127.0.0.1:%d/" % p]),
    "openssl": ("openssl", lambda p: ["openssl", "s_client", "-connect", "127.0.0.1:%d" % p,
                                      "-servername", "example.test", "-alpn", "h2,http/1.1"]),
    "openssl_tls12": ("openssl", lambda p: ["openssl", "s_client", "-connect", "127.0.0.1:%d" % p,
                                            "-servername", "example.test", "-tls1_2"]),
    "node": ("node", lambda p: ["node", "-e", NODE_CLIENT, str(p)]),
}


def sha12(text):
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


class Ja4ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tool = find_tool()
        run_reference([])  # skips the whole class when node or the package is missing

    def assert_self_consistent(self, hark):
        """Hark's hashes are the hashes of Hark's own strings."""
        self.assertEqual(hashlib.md5(hark["ja3"]["string"].encode()).hexdigest(),
                         hark["ja3"]["hash"])
        a, b, c = hark["ja4"]["raw"].split("_", 2)
        self.assertEqual(hark["ja4"]["hashed"], "%s_%s_%s" % (a, sha12(b), sha12(c)))

    def assert_agree(self, name, hark, ref):
        self.assertEqual(hark["status"], "complete", "%s: %s" % (name, hark["error"]))
        self.assertTrue(ref["ok"], "%s: reference failed: %s" % (name, ref.get("error")))
        self.assertEqual(hark["ja3"]["hash"], ref["ja3"], name)
        self.assertEqual(hark["ja4"]["hashed"], ref["ja4"], name)
        self.assertEqual(hark["legacyVersion"], ref["legacyVersion"], name)
        self.assertEqual(hark["cipherSuites"], ref["cipherSuites"], name)
        self.assertEqual(hark["extensions"], ref["extensions"], name)
        self.assertEqual(hark["sni"], ref["sni"], name)
        names = [bytes.fromhex(h).decode("ascii") for h in hark["alpnHex"]]
        self.assertEqual(names or None, ref["alpn"] or None, name)
        self.assert_self_consistent(hark)

    def test_real_clients_agree_with_reference(self):
        captured = {}
        for name, (program, command) in CLIENTS.items():
            if shutil.which(program) is None:
                continue
            captured[name] = capture(command).hex()
        if not captured:
            raise missing("none of curl, openssl, node is installed")
        names = list(captured)
        hexes = [captured[n] for n in names]
        for name, hark, ref in zip(names, run_hark(self.tool, hexes), run_reference(hexes)):
            with self.subTest(client=name):
                self.assert_agree(name, hark, ref)
                self.assertEqual(hark["consumed"], len(captured[name]) // 2)
        if "curl" in captured:
            hark = run_hark(self.tool, [captured["curl"]])[0]
            self.assertEqual(hark["sni"], "example.test")
            self.assertTrue(hark["ja4"]["hashed"].startswith("t13d"))

    def test_hand_made_grease_hellos_agree_with_reference(self):
        names = list(HAND_MADE)
        hexes = [records(HAND_MADE[n]()).hex() for n in names]
        for name, hark, ref in zip(names, run_hark(self.tool, hexes), run_reference(hexes)):
            with self.subTest(hello=name):
                self.assert_agree(name, hark, ref)
        chrome = run_hark(self.tool, [records(chrome_like()).hex()])[0]
        self.assertNotIn("2570", chrome["ja3"]["string"])  # 0x0a0a
        self.assertTrue(chrome["ja4"]["hashed"].startswith("t13d1517h2_8daaf6152771_"))

    def test_fragmented_hellos_match_single_record(self):
        # The reference reads one record only; Hark must give the same answers however the
        # hello is cut into records.
        for name, make in HAND_MADE.items():
            message = make()
            single = run_hark(self.tool, [records(message).hex()])[0]
            cuts = [(1,), (4, 10), (len(message) // 3, len(message) // 3)]
            wires = [records(message, c, version=0x0303).hex() for c in cuts]
            for cut, wire, hark in zip(cuts, wires, run_hark(self.tool, wires)):
                with self.subTest(hello=name, cut=cut):
                    self.assertEqual(hark["status"], "complete", hark["error"])
                    self.assertEqual(hark["consumed"], len(wire) // 2)
                    self.assertEqual(hark["ja3"], single["ja3"])
                    self.assertEqual(hark["ja4"], single["ja4"])

    def test_spec_edge_cases_where_the_reference_differs(self):
        ciphers = [0x1301, 0x1302]
        sig = ext(13, vec16(u16s([0x0403])))
        cases = {
            # "If extension 0x002b exists … the version is the highest value in the extension"
            "tls12_in_supported_versions": (
                hello(ciphers, [ext(43, vec8(u16s([0x0303]))), sig]), "t12i020200", None),
            # 0x0300 = SSL 3.0 = "s3"
            "ssl3": (hello(ciphers, [sig], version=0x0300), "ts3i020100", None),
            # non-alphanumeric first/last byte of the ALPN: first and last hex digits
            "alpn_non_alnum": (hello(ciphers, [ext(16, vec16(vec8(b"\x01x"))), sig]),
                               "t12i020208", None),
            # more than 99 ciphers: "99"
            "many_ciphers": (hello(list(range(0x0100, 0x0100 + 120)), [sig]), "t12i990100", None),
            # nothing left after removing SNI and ALPN: JA4_c is "000000000000"
            "only_sni_and_alpn": (hello(ciphers, [sni("a.example"), alpn("h2")]), "t12d0202h2",
                                  "000000000000"),
        }
        names = list(cases)
        hexes = [records(cases[n][0]).hex() for n in names]
        refs = run_reference(hexes)
        for name, hark, ref in zip(names, run_hark(self.tool, hexes), refs):
            _, part_a, part_c = cases[name]
            with self.subTest(case=name, reference=ref.get("ja4")):
                self.assertEqual(hark["status"], "complete", hark["error"])
                self.assertEqual(hark["ja4"]["hashed"].split("_")[0], part_a)
                if part_c is not None:
                    self.assertEqual(hark["ja4"]["hashed"].split("_")[2], part_c)
                # JA3 has no such edge cases: both must agree on it.
                self.assertEqual(hark["ja3"]["hash"], ref["ja3"])
                self.assert_self_consistent(hark)


if __name__ == "__main__":
    unittest.main()
