"""The Sessions API, exactly as specified: paths, status codes, field names, error strings."""

import time
import unittest

from harklib import SESSION_NAME_RE, UUID4_RE, HarkTestCase, curl

SESSION_FIELDS = {"id", "name", "isActive", "isRecording", "createdAt", "updatedAt",
                  "trafficCount", "totalBytes"}


class SessionsApiTest(HarkTestCase):

    def setUp(self):
        self.hark = self.start_hark()
        self.api = self.hark.api
        self.api_ok = self.hark.api_ok

    def assert_session(self, s):
        self.assertEqual(set(s), SESSION_FIELDS, s)
        self.assertRegex(s["id"], UUID4_RE)
        self.assertIsInstance(s["name"], str)
        for key in ("isActive", "isRecording"):
            self.assertIsInstance(s[key], bool)
        now_ms = time.time() * 1000
        for key in ("createdAt", "updatedAt"):
            self.assertIsInstance(s[key], int)
            self.assertLess(abs(now_ms - s[key]), 5 * 60 * 1000, "%s is not Unix ms now" % key)
        self.assertGreaterEqual(s["updatedAt"], s["createdAt"])
        self.assertIsInstance(s["trafficCount"], int)
        self.assertIsInstance(s["totalBytes"], int)

    def create(self, body=None):
        status, headers, data = self.api("POST", "/api/sessions", body)
        self.assertEqual(status, 201, data)
        self.assertIn("application/json", headers["Content-Type"])
        self.assert_session(data)
        return data

    def test_default_session_on_first_start(self):
        sessions = self.api_ok("GET", "/api/sessions")["sessions"]
        self.assertEqual(len(sessions), 1, sessions)
        s = sessions[0]
        self.assert_session(s)
        self.assertRegex(s["name"], SESSION_NAME_RE)
        self.assertTrue(s["isActive"])
        self.assertTrue(s["isRecording"])
        self.assertEqual(s["trafficCount"], 0)
        self.assertEqual(self.api_ok("GET", "/api/sessions/active"), s)
        self.assertEqual(self.api_ok("GET", "/api/sessions/" + s["id"]), s)

    def test_default_session_not_recreated_on_restart(self):
        first = self.hark.active_session()
        self.hark.stop()
        again = self.start_hark(data_dir=self.hark.data_dir)
        sessions = again.api_ok("GET", "/api/sessions")["sessions"]
        self.assertEqual([s["id"] for s in sessions], [first["id"]])

    def test_create_with_defaults_and_named_list_newest_first(self):
        default = self.hark.active_session()
        unnamed = self.create()
        self.assertRegex(unnamed["name"], SESSION_NAME_RE)
        self.assertFalse(unnamed["isActive"])
        self.assertFalse(unnamed["isRecording"])
        self.assertEqual((unnamed["trafficCount"], unnamed["totalBytes"]), (0, 0))
        time.sleep(0.01)
        unnamed2 = self.create({})
        self.assertRegex(unnamed2["name"], SESSION_NAME_RE)
        time.sleep(0.01)
        named = self.create({"name": "Login Flow Testing"})
        self.assertEqual(named["name"], "Login Flow Testing")
        self.assertFalse(named["isActive"])

        sessions = self.api_ok("GET", "/api/sessions")["sessions"]
        self.assertEqual([s["id"] for s in sessions],
                         [named["id"], unnamed2["id"], unnamed["id"], default["id"]])
        self.assertEqual(self.hark.active_session()["id"], default["id"])

    def test_patch_name_and_recording(self):
        s = self.create({"name": "before"})
        time.sleep(0.01)
        renamed = self.api_ok("PATCH", "/api/sessions/" + s["id"], {"name": "after"})
        self.assert_session(renamed)
        self.assertEqual(renamed["name"], "after")
        self.assertGreater(renamed["updatedAt"], s["updatedAt"])
        self.assertEqual(renamed["createdAt"], s["createdAt"])

        active = self.hark.active_session()
        paused = self.api_ok("PATCH", "/api/sessions/" + active["id"], {"isRecording": False})
        self.assertFalse(paused["isRecording"])
        self.assertTrue(paused["isActive"])
        self.assertEqual(paused["name"], active["name"])
        self.assertEqual(self.api_ok("GET", "/api/sessions/" + active["id"]), paused)
        resumed = self.api_ok("PATCH", "/api/sessions/" + active["id"], {"isRecording": True})
        self.assertTrue(resumed["isRecording"])

    def test_activate_deactivates_previous(self):
        old = self.hark.active_session()
        new = self.create({"name": "next"})
        activated = self.api_ok("POST", "/api/sessions/%s/activate" % new["id"])
        self.assert_session(activated)
        self.assertEqual(activated["id"], new["id"])
        self.assertTrue(activated["isActive"])
        self.assertTrue(activated["isRecording"])
        self.assertEqual(self.hark.active_session()["id"], new["id"])
        self.assertFalse(self.api_ok("GET", "/api/sessions/" + old["id"])["isActive"])
        actives = [s for s in self.api_ok("GET", "/api/sessions")["sessions"] if s["isActive"]]
        self.assertEqual([s["id"] for s in actives], [new["id"]])

    def test_patch_is_active_true_behaves_as_activate(self):
        old = self.hark.active_session()
        new = self.create()
        patched = self.api_ok("PATCH", "/api/sessions/" + new["id"], {"isActive": True})
        self.assertTrue(patched["isActive"])
        self.assertTrue(patched["isRecording"])
        self.assertFalse(self.api_ok("GET", "/api/sessions/" + old["id"])["isActive"])

    def test_no_active_session(self):
        active = self.hark.active_session()
        patched = self.api_ok("PATCH", "/api/sessions/" + active["id"], {"isActive": False})
        self.assertFalse(patched["isActive"])
        status, _, data = self.api("GET", "/api/sessions/active")
        self.assertEqual((status, data), (404, {"error": "No active session"}))

    def test_unknown_session_is_404(self):
        missing = "/api/sessions/00000000-0000-4000-8000-000000000000"
        for method, path, body in (("GET", missing, None),
                                   ("PATCH", missing, {"name": "x"}),
                                   ("POST", missing + "/activate", None),
                                   ("DELETE", missing, None)):
            status, _, data = self.api(method, path, body)
            self.assertEqual((status, data), (404, {"error": "Session not found"}), method + path)

    def test_delete_cascades(self):
        origin = self.start_http_origin()
        victim = self.hark.active_session()
        url = origin.url("/hello?delete-me")
        self.assertEqual(curl([url], self.hark.proxy_port).stdout, b"hello")
        entry = self.hark.wait_for_entry(url)
        self.assertEqual(self.api_ok("GET", "/api/sessions/" + victim["id"])["trafficCount"], 1)

        keeper = self.create({"name": "keeper"})
        self.assertEqual(self.api_ok("DELETE", "/api/sessions/" + victim["id"]), {"success": True})
        status, _, data = self.api("GET", "/api/sessions/" + victim["id"])
        self.assertEqual((status, data), (404, {"error": "Session not found"}))
        status, _, data = self.api("GET", "/api/sessions/%s/entries/%s" % (victim["id"], entry["id"]))
        self.assertEqual(status, 404, data)
        ids = [s["id"] for s in self.api_ok("GET", "/api/sessions")["sessions"]]
        self.assertEqual(ids, [keeper["id"]])

    def test_invalid_json_and_wrong_types(self):
        s = self.hark.active_session()
        for method, path in (("POST", "/api/sessions"), ("PATCH", "/api/sessions/" + s["id"])):
            status, headers, data = self.api(method, path, '{"name": ')
            self.assertEqual((status, data), (400, {"error": "Invalid JSON body"}), method)
            self.assertIn("application/json", headers["Content-Type"])
            status, _, data = self.api(method, path, {"name": 5})
            self.assertEqual((status, data), (400, {"error": "Field 'name' must be a string"}),
                             method)
        self.assertEqual(self.api_ok("GET", "/api/sessions/" + s["id"])["name"], s["name"])
        self.assertEqual(len(self.api_ok("GET", "/api/sessions")["sessions"]), 1)

    def test_unknown_path_is_404(self):
        for path in ("/api/nope", "/api/sessions/%s/nope" % self.hark.active_session()["id"]):
            status, _, data = self.api("GET", path)
            self.assertEqual((status, data), (404, {"error": "Not found"}), path)

    def test_wrong_method_is_405_with_allow(self):
        status, headers, data = self.api("PUT", "/api/sessions", {"name": "x"})
        self.assertEqual(status, 405, data)
        self.assertIn("error", data)
        allow = {m.strip() for m in (headers["Allow"] or "").split(",")}
        self.assertTrue({"GET", "POST"} <= allow, headers["Allow"])
        self.assertNotIn("PUT", allow)

        status, headers, _ = self.api("PUT", "/api/sessions/" + self.hark.active_session()["id"])
        self.assertEqual(status, 405)
        allow = {m.strip() for m in (headers["Allow"] or "").split(",")}
        self.assertTrue({"GET", "PATCH", "DELETE"} <= allow, headers["Allow"])

    def test_host_guard(self):
        status, headers, data = self.api("GET", "/api/sessions", headers={"Host": "evil.example"})
        self.assertEqual((status, data), (403, {"error": "Forbidden: invalid Host header"}))
        self.assertIsNone(headers["Access-Control-Allow-Origin"])
        status, _, data = self.api("GET", "/api/sessions",
                                   headers={"Host": "evil.example:%d" % self.hark.api_port})
        self.assertEqual(status, 403, data)
        for host in ("localhost:%d" % self.hark.api_port, "127.0.0.1:%d" % self.hark.api_port,
                     "localhost"):
            status, _, data = self.api("GET", "/api/sessions", headers={"Host": host})
            self.assertEqual(status, 200, (host, data))

    def test_health_without_token(self):
        health = self.api_ok("GET", "/api/health")
        self.assertEqual(health["status"], "ok")
        self.assertIsInstance(health["version"], str)
        self.assertIsInstance(health["uptimeMs"], int)
        self.assertEqual(health["recording"]["sessionId"], self.hark.active_session()["id"])
        self.assertIs(health["recording"]["isRecording"], True)
        self.assertIs(health["store"]["ok"], True)


class ApiTokenTest(HarkTestCase):

    def test_bearer_token(self):
        hark = self.start_hark(["--api-token", "s3cret-token"])
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
            status, _, data = hark.api("GET", "/api/sessions", headers=headers)
            self.assertEqual((status, data), (401, {"error": "Unauthorized"}), headers)
        status, _, data = hark.api("POST", "/api/sessions", {"name": "x"})
        self.assertEqual(status, 401, data)

        auth = {"Authorization": "Bearer s3cret-token"}
        sessions = hark.api_ok("GET", "/api/sessions", headers=auth)["sessions"]
        self.assertEqual(len(sessions), 1)

        self.assertEqual(hark.api_ok("GET", "/api/health")["status"], "ok")
        status, _, pem = hark.api("GET", "/api/ca.pem")
        self.assertEqual(status, 200)
        self.assertIn(b"-----BEGIN CERTIFICATE-----", pem)


if __name__ == "__main__":
    unittest.main()
