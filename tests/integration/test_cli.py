"""The command line: version, help, exit codes, port conflicts, signals, `hark ca`, config files."""

import os
import re
import signal
import socket
import ssl
import unittest

from harklib import HarkTestCase, make_temp_dir, run_cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT_ZERO = ["--proxy-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"]


class CliTest(HarkTestCase):

    def test_version(self):
        result = run_cli(["--version"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout.decode(), r"\d+\.\d+\.\d+")

    def test_help_lists_flags(self):
        result = run_cli(["--help"])
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout.decode()
        for flag in ("--proxy-listen", "--api-listen", "--data-dir", "--config", "--api-token",
                     "--max-body-capture", "--upstream-timeout", "--passthrough"):
            self.assertIn(flag, out)

    def test_unknown_flag_and_bad_values_exit_2(self):
        data_dir = make_temp_dir()
        for args in (["--no-such-flag"] + PORT_ZERO,
                     ["--proxy-listen", "not-an-address", "--api-listen", "127.0.0.1:0"],
                     ["--proxy-listen", "127.0.0.1:99999", "--api-listen", "127.0.0.1:0"],
                     ["--ca-key-type", "dsa"] + PORT_ZERO,
                     ["--log-level", "loud"] + PORT_ZERO,
                     ["--workers", "many"] + PORT_ZERO,
                     ["--header-timeout", "soon"] + PORT_ZERO,
                     ["ca", "export", "--format", "txt"]):
            # A daemon that wrongly starts is killed by the timeout (and the test errors).
            result = run_cli(args + ["--data-dir", data_dir], timeout=10)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertTrue(result.stderr.strip(), "no message on stderr for %s" % args)

    def assert_port_in_use(self, flag):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            args = {"--proxy-listen": "127.0.0.1:0", "--api-listen": "127.0.0.1:0"}
            args[flag] = "127.0.0.1:%d" % port
            argv = [a for kv in args.items() for a in kv] + ["--data-dir", make_temp_dir()]
            result = run_cli(argv)
        self.assertEqual(result.returncode, 1, result.stderr)
        err = result.stderr.decode()
        line = [l for l in err.splitlines() if str(port) in l and flag in l]
        self.assertTrue(line, "stderr should name port %d and %s:\n%s" % (port, flag, err))

    def test_proxy_port_in_use_exits_1(self):
        self.assert_port_in_use("--proxy-listen")

    def test_api_port_in_use_exits_1(self):
        self.assert_port_in_use("--api-listen")

    def test_startup_lines_and_sigterm(self):
        hark = self.start_hark()
        out = hark.stdout()
        self.assertRegex(out, r"(?m)^proxy listening on 127\.0\.0\.1:%d$" % hark.proxy_port)
        self.assertRegex(out, r"(?m)^api listening on 127\.0\.0\.1:%d$" % hark.api_port)
        hark.stop(signal.SIGTERM)

    def test_sigint_exits_0(self):
        self.start_hark().stop(signal.SIGINT)

    def test_run_subcommand(self):
        data_dir = make_temp_dir()
        hark = self.start_hark(subcommand="run", data_dir=data_dir, with_data_dir=False,
                               env={"HARK_DATA_DIR": data_dir})
        hark.stop()
        self.assertTrue(os.path.exists(os.path.join(data_dir, "hark.db")))

    def test_ca_commands(self):
        hark = self.start_hark()
        ca_pem = os.path.join(hark.data_dir, "ca", "ca.pem")
        hark.stop()
        self.assertIn(ca_pem, hark.stdout(), "the CA path is printed on start")
        self.assertEqual(os.stat(os.path.join(hark.data_dir, "ca", "ca-key.pem")).st_mode & 0o077,
                         0, "the CA key must not be readable by others")

        result = run_cli(["ca", "path", "--data-dir", hark.data_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        path = result.stdout.decode().strip()
        self.assertEqual(os.path.realpath(path), os.path.realpath(ca_pem))
        with open(path) as f:
            pem = f.read()
        self.assertIn("-----BEGIN CERTIFICATE-----", pem)

        result = run_cli(["ca", "export", "--format", "pem", "--data-dir", hark.data_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.decode().strip(), pem.strip())

        result = run_cli(["ca", "export", "--format", "der", "--data-dir", hark.data_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, ssl.PEM_cert_to_DER_cert(pem))

        result = run_cli(["ca", "show", "--data-dir", hark.data_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Hark", result.stdout.decode())

    def test_ca_dir_flag(self):
        ca_dir = os.path.join(make_temp_dir(), "my-ca")
        self.start_hark(["--ca-dir", ca_dir]).stop()
        self.assertTrue(os.path.exists(os.path.join(ca_dir, "ca.pem")))
        result = run_cli(["ca", "path", "--ca-dir", ca_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.realpath(result.stdout.decode().strip()),
                         os.path.realpath(os.path.join(ca_dir, "ca.pem")))

    def test_config_file_keys_are_flag_names(self):
        config = os.path.join(make_temp_dir(), "hark.toml")
        with open(config, "w") as f:
            f.write('api-token = "from-config"\n'
                    'max-body-capture = 1024\n'
                    'log-level = "warn"\n'
                    'passthrough = ["*.example.com"]\n')
        hark = self.start_hark(["--config", config])
        status, _, data = hark.api("GET", "/api/sessions")
        self.assertEqual((status, data), (401, {"error": "Unauthorized"}))
        status, _, _ = hark.api("GET", "/api/sessions",
                                headers={"Authorization": "Bearer from-config"})
        self.assertEqual(status, 200)
        hark.stop()

    def test_command_line_overrides_config_file(self):
        config = os.path.join(make_temp_dir(), "hark.toml")
        with open(config, "w") as f:
            f.write('api-token = "from-config"\n')
        hark = self.start_hark(["--config", config, "--api-token", "from-flag"])
        status, _, _ = hark.api("GET", "/api/sessions",
                                headers={"Authorization": "Bearer from-flag"})
        self.assertEqual(status, 200)
        hark.stop()

    def test_example_config_documents_every_flag(self):
        with open(os.path.join(REPO, "config", "hark.toml")) as f:
            example = f.read()
        documented = dict(re.findall(r"(?m)^# ([a-z][a-z-]*) = (.*)$", example))
        result = run_cli(["--help"])
        flags = set(re.findall(r"--([a-z][a-z-]+)", result.stdout.decode()))
        self.assertEqual(set(documented), flags - {"help", "version", "config"})

        # The documented values, uncommented, are accepted (paths moved to a temp dir).
        tmp = make_temp_dir()
        documented.update({"data-dir": '"%s"' % tmp, "ca-dir": '"%s/ca"' % tmp,
                           "keylog": '"%s/keylog.txt"' % tmp, "log-file": '"%s/hark.log"' % tmp})
        config = os.path.join(tmp, "hark.toml")
        with open(config, "w") as f:
            f.writelines("%s = %s\n" % kv for kv in documented.items())
        hark = self.start_hark(["--config", config])
        self.assertEqual(hark.api_ok("GET", "/api/health")["status"], "ok")
        self.assertTrue(os.path.exists(os.path.join(tmp, "ca", "ca.pem")))

    def test_bad_config_file_exits_2(self):
        config = os.path.join(make_temp_dir(), "hark.toml")
        with open(config, "w") as f:
            f.write('proxy-listen = \n')
        result = run_cli(["--config", config, "--data-dir", make_temp_dir()])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertTrue(result.stderr.strip())


if __name__ == "__main__":
    unittest.main()
