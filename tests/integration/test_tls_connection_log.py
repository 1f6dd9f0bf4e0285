"""The TLS connection log (SPEC §3, §6.5): GET /api/tls/:connectionId and JSON-RPC
tls/get_connection show, for an intercepted connection, the client's ClientHello, Hark's
ServerHello and certificate, the upstream leg's hellos and the origin's certificate chain, and
the alerts either side sent. Real curl clients, real local TLS origins."""

import hashlib
import shutil
import ssl
import time
import unittest

from harklib import ISO_RE, ULID_RE, TlsOrigin, curl, missing, shared_test_pki, start_hark
from test_tls_intercept import hark_ca

TIMEOUT = 5.0


def der_sha256(pem_text):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem_text)).hexdigest()


class TlsConnectionLogTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("curl") is None:
            raise missing("curl is not installed")
        cls.pki = shared_test_pki()
        cls.origin = TlsOrigin(cls.pki.localhost_pem, cls.pki.localhost_key, alpn=["http/1.1"])
        cls.addClassCleanup(cls.origin.close)
        cls.hark = start_hark(["--upstream-ca", cls.pki.ca_pem])
        cls.addClassCleanup(cls.hark.kill9)

    @classmethod
    def tearDownClass(cls):
        cls.hark.stop()

    def wait_for_log(self, connection_id, until=lambda log: True):
        """Polls GET /api/tls/:id until it exists and `until(log)` holds; returns the log."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            status, _, data = self.hark.api("GET", "/api/tls/" + connection_id)
            if status == 200 and until(data):
                return data
            if time.monotonic() > deadline:
                self.fail("no TLS log for %s (last answer %d %r)" % (connection_id, status, data))
            time.sleep(0.05)

    def events(self, log, leg, side, type_):
        return [e for e in log["events"]
                if (e["leg"], e["side"], e["type"]) == (leg, side, type_)]

    def one_event(self, log, leg, side, type_):
        found = self.events(log, leg, side, type_)
        self.assertEqual(len(found), 1, "%s/%s/%s in %s" % (
            leg, side, type_, [(e["leg"], e["side"], e["type"]) for e in log["events"]]))
        return found[0]

    def extension(self, hello, name):
        for ext in hello["extensions"]:
            if ext["type"]["name"] == name:
                return ext
        self.fail("no %s extension in %s" % (name, [e["type"]["name"] for e in hello["extensions"]]))

    def test_both_legs_of_an_intercepted_tls13_connection(self):
        # A fresh origin: an upstream connection taken from the pool has no handshake to log.
        origin = TlsOrigin(self.pki.localhost_pem, self.pki.localhost_key, alpn=["http/1.1"])
        self.addCleanup(origin.close)
        url = origin.url("/hello?case=log13")
        result = curl(["--cacert", hark_ca(self.hark), url], self.hark.proxy_port)
        self.assertEqual((result.returncode, result.stdout), (0, b"hello"), result.stderr)
        entry = self.hark.wait_for_entry(url)
        tls = entry["tls"]
        # curl closes with close_notify: the last update of the log carries that alert.
        log = self.wait_for_log(tls["connectionId"],
                                lambda l: any(e["type"] == "alert" for e in l["events"]))

        self.assertEqual(log["connectionId"], tls["connectionId"])
        self.assertRegex(log["connectionId"], ULID_RE)
        self.assertEqual(log["sessionId"], self.hark.active_session()["id"])
        self.assertRegex(log["at"], ISO_RE)
        self.assertEqual(log["clientAddr"]["ip"], "127.0.0.1")
        self.assertEqual(log["sni"], "localhost")
        self.assertEqual(log["alpn"], "http/1.1")
        for key in ("tlsVersion", "cipherSuite", "ja3", "ja4"):
            self.assertEqual(log[key], tls[key], key)
        self.assertIsNone(log["failure"])
        for event in log["events"]:
            self.assertRegex(event["at"], ISO_RE)
            self.assertNotIn("error", event, event)

        # Client leg: curl's hello, Hark's answer and Hark's forged leaf.
        hello = self.one_event(log, "client", "client", "client_hello")
        self.assertEqual(self.extension(hello, "server_name")["serverNames"], ["localhost"])
        self.assertEqual(self.extension(hello, "application_layer_protocol_negotiation")
                         ["protocols"], ["h2", "http/1.1"])
        self.assertEqual(len(hello["random"]), 64)
        server_hello = self.one_event(log, "client", "server", "server_hello")
        self.assertEqual(server_hello["cipherSuite"], tls["cipherSuite"])
        self.assertEqual(self.extension(server_hello, "supported_versions")["version"],
                         {"value": 0x0304, "name": "TLSv1.3"})
        ee = self.one_event(log, "client", "server", "encrypted_extensions")
        self.assertEqual(self.extension(ee, "application_layer_protocol_negotiation")
                         ["protocols"], ["http/1.1"])
        chain = self.one_event(log, "client", "server", "certificate")["certificates"]
        self.assertIn("O=Hark", chain[0]["issuer"])
        self.assertIn({"type": "dns", "value": "localhost"}, chain[0]["subjectAltNames"])
        with open(hark_ca(self.hark)) as f:
            self.assertEqual(der_sha256(chain[-1]["pem"]), der_sha256(f.read()),
                             "the chain Hark sent does not end with its CA")

        # Upstream leg: Hark's own hello (the client's SNI, ALPN restricted to http/1.1) and the
        # origin's real certificate.
        up_hello = self.one_event(log, "upstream", "client", "client_hello")
        self.assertEqual(self.extension(up_hello, "server_name")["serverNames"], ["localhost"])
        # Hark offers the origin exactly what the client offered (SPEC §4); this origin
        # picks http/1.1, which is what the client was given above.
        self.assertEqual(self.extension(up_hello, "application_layer_protocol_negotiation")
                         ["protocols"], ["h2", "http/1.1"])
        self.one_event(log, "upstream", "server", "server_hello")
        up_chain = self.one_event(log, "upstream", "server", "certificate")["certificates"]
        with open(self.pki.localhost_pem) as f:
            origin_pem = f.read()
        self.assertEqual(up_chain[0]["pem"].strip(), origin_pem.strip())
        self.assertEqual(up_chain[0]["sha256"], der_sha256(origin_pem))
        self.assertEqual(up_chain[0]["subject"], "CN=localhost")

        alert = self.events(log, "client", "client", "alert")[-1]
        self.assertEqual(alert["description"], {"value": 0, "name": "close_notify"})
        self.assertEqual(alert["level"]["name"], "warning")

        # JSON-RPC answers the same object.
        status, _, rpc = self.hark.api("POST", "/api/rpc", {
            "jsonrpc": "2.0", "id": 7, "method": "tls/get_connection",
            "params": {"connectionId": log["connectionId"]}})
        self.assertEqual(status, 200)
        self.assertEqual(rpc["result"], log)

    def test_pooled_upstream_has_no_upstream_handshake(self):
        origin = TlsOrigin(self.pki.localhost_pem, self.pki.localhost_key, alpn=["http/1.1"])
        self.addCleanup(origin.close)
        hark = start_hark(["--upstream-ca", self.pki.ca_pem, "--workers", "1"])
        self.addCleanup(hark.kill9)
        logs = []
        for i in range(2):
            url = origin.url("/hello?case=log-pooled-%d" % i)
            result = curl(["--cacert", hark_ca(hark), url], hark.proxy_port)
            self.assertEqual(result.returncode, 0, result.stderr)
            connection = hark.wait_for_entry(url)["tls"]["connectionId"]
            deadline = time.monotonic() + TIMEOUT
            while True:
                status, _, log = hark.api("GET", "/api/tls/" + connection)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(status, 200)
            logs.append(log)
        legs = [{e["leg"] for e in log["events"]} for log in logs]
        self.assertEqual(legs[0], {"client", "upstream"})
        self.assertNotIn("upstream", legs[1])
        self.assertEqual(len(origin.handshakes), 1)
        hark.stop()

    def test_tls12_certificate_message(self):
        url = self.origin.url("/hello?case=log12")
        result = curl(["--cacert", hark_ca(self.hark), "--tls-max", "1.2", "--http1.1", url],
                      self.hark.proxy_port)
        self.assertEqual(result.returncode, 0, result.stderr)
        tls = self.hark.wait_for_entry(url)["tls"]
        self.assertEqual(tls["tlsVersion"]["name"], "TLSv1.2")
        log = self.wait_for_log(tls["connectionId"])
        chain = self.one_event(log, "client", "server", "certificate")["certificates"]
        self.assertNotIn("requestContext", self.one_event(log, "client", "server", "certificate"))
        self.assertIn({"type": "dns", "value": "localhost"}, chain[0]["subjectAltNames"])
        self.assertEqual(self.one_event(log, "client", "server", "server_hello")["cipherSuite"],
                         tls["cipherSuite"])

    def test_client_rejecting_hark_certificate_is_logged_with_its_alert(self):
        url = self.origin.url("/hello?case=log-untrusting")
        result = curl([url], self.hark.proxy_port)  # Hark's CA unknown to curl
        self.assertNotEqual(result.returncode, 0)
        deadline = time.monotonic() + TIMEOUT
        failure = None
        while failure is None and time.monotonic() < deadline:
            failures = self.hark.api_ok("GET", "/api/tls/failures")["failures"]
            failure = next((f for f in failures if f["alert"]), None)
            time.sleep(0.05)
        self.assertIsNotNone(failure, "no failure with an alert")
        log = self.wait_for_log(failure["connectionId"])
        self.assertEqual(log["failure"], failure["reason"])
        self.assertIsNone(log["tlsVersion"])
        alert = self.one_event(log, "client", "client", "alert")
        self.assertEqual(alert["description"], failure["alert"])
        self.assertEqual(alert["level"]["name"], "fatal")
        self.one_event(log, "client", "client", "client_hello")
        self.one_event(log, "client", "server", "certificate")

    def test_unknown_connection(self):
        status, _, data = self.hark.api("GET", "/api/tls/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        self.assertEqual((status, data), (404, {"error": "TLS connection not found"}))
        status, _, rpc = self.hark.api("POST", "/api/rpc", {
            "jsonrpc": "2.0", "id": 1, "method": "tls/get_connection",
            "params": {"connectionId": "nope"}})
        self.assertEqual((status, rpc["result"]), (200, None))
        # The literal route still wins over the parameter.
        self.assertIn("failures", self.hark.api_ok("GET", "/api/tls/failures"))

    def test_deleting_the_session_deletes_its_logs(self):
        session = self.hark.api_ok("POST", "/api/sessions", {"name": "tls-log-delete"}, status=201)
        previous = self.hark.active_session()["id"]
        self.hark.api_ok("POST", "/api/sessions/%s/activate" % session["id"])
        try:
            url = self.origin.url("/hello?case=log-delete")
            result = curl(["--cacert", hark_ca(self.hark), url], self.hark.proxy_port)
            self.assertEqual(result.returncode, 0, result.stderr)
            connection = self.hark.wait_for_entry(url)["tls"]["connectionId"]
            self.wait_for_log(connection)
        finally:
            self.hark.api_ok("POST", "/api/sessions/%s/activate" % previous)
        self.hark.api_ok("DELETE", "/api/sessions/%s" % session["id"])
        status, _, _ = self.hark.api("GET", "/api/tls/" + connection)
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
