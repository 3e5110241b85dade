"""The herald program: `herald serve` serving its demo page, its errors, its help and its stop."""

import os
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import curl  # noqa: E402

HERALD = harness.HERALD_BIN


def run_herald(*args, timeout=20):
    harness.require_binary(HERALD, "HERALD_BIN")
    return subprocess.run([HERALD] + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def start_serve(*extra):
    return harness.start_serve("--log-level", "info", *extra)


class HeraldServeTest(harness.HeraldServeTestCase):
    FLAGS = ("--log-level", "info")

    def test_demo_page(self):
        with open(os.path.join(harness.SOURCE_DIR, "web", "index.html"), "rb") as f:
            page = f.read()
        r = curl(self.url("/"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/html"), r.headers)
        self.assertEqual(r.body, page)
        self.assertIn(b"<html", r.body.lower())
        r = curl(self.url("/index.html"))
        self.assertEqual((r.status, r.body), (200, page))

    def test_healthz(self):
        r = curl(self.url("/healthz"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual((r.status, r.body), (200, b"ok\n"))

    def test_hello(self):
        r = curl(self.url("/hello"))
        self.assertEqual((r.status, r.body), (200, b"hello"))

    def test_unknown_path_is_404(self):
        self.assertEqual(curl(self.url("/no-such-file.txt")).status, 404)

    def test_path_traversal_is_refused(self):
        r = harness.exchange(self.port, b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertNotEqual(r.status, 200)
        self.assertNotIn(b"root:", r.body)

    def test_access_log_goes_to_stderr(self):
        curl(self.url("/healthz?from=access-log-test"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "access-log-test" not in self.server.stderr():
            time.sleep(0.05)
        self.assertIn("access-log-test", self.server.stderr())


class HeraldServeProcessTest(unittest.TestCase):
    def test_sigint_stops_with_exit_code_0(self):
        p = start_serve("--no-access-log")
        try:
            self.assertEqual(curl("http://127.0.0.1:%d/healthz" % p.port).body, b"ok\n")
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=15), 0, p.stderr())
            with self.assertRaises(ConnectionRefusedError):
                harness.connect(p.port, timeout=2).close()
        finally:
            p.close()

    def test_sigterm_stops_with_exit_code_0(self):
        p = start_serve("--single-acceptor")
        try:
            self.assertEqual(curl("http://127.0.0.1:%d/hello" % p.port).body, b"hello")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=15), 0, p.stderr())
        finally:
            p.close()

    def test_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            start = time.monotonic()
            r = run_herald("serve", "--host", "127.0.0.1", "--port", port, "--threads", 1, timeout=20)
            elapsed = time.monotonic() - start
        message = (r.stderr + r.stdout).decode("utf-8", "replace")
        self.assertNotEqual(r.returncode, 0, message)
        self.assertLess(elapsed, 10, "herald took too long to give up")
        self.assertIn(str(port), message)
        self.assertIn("in use", message.lower())

    # herald::error derives from std::system_error, whose what() (libstdc++) is the message plus
    # ": " + the error code's message. The texts must read as written: no repeated or bogus suffix.

    def test_port_in_use_message_says_it_once(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            r = run_herald("serve", "--host", "127.0.0.1", "--port", port, "--threads", 1)
        message = r.stderr.decode("utf-8", "replace")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(message.lower().count("in use"), 1, message)

    def test_setup_error_message_has_no_errno_suffix(self):
        r = run_herald("serve", "--host", "127.0.0.1", "--port", 0, "--web", "/nonexistent/web")
        message = r.stderr.decode("utf-8", "replace")
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("Invalid argument", message)

    def test_bad_port_value(self):
        r = run_herald("serve", "--port", "notanumber")
        self.assertNotEqual(r.returncode, 0)
        message = (r.stderr + r.stdout).decode("utf-8", "replace")
        self.assertIn("--port", message)
        self.assertIn("notanumber", message)

    def test_port_out_of_range(self):
        r = run_herald("serve", "--port", "70000")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--port", (r.stderr + r.stdout).decode("utf-8", "replace"))

    def test_unknown_flag(self):
        r = run_herald("serve", "--bogus")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--bogus", (r.stderr + r.stdout).decode("utf-8", "replace"))

    def test_bad_log_level(self):
        r = run_herald("serve", "--log-level", "loud")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loud", (r.stderr + r.stdout).decode("utf-8", "replace"))

    def test_missing_web_dir(self):
        r = run_herald("serve", "--host", "127.0.0.1", "--port", harness.free_port(), "--web", "/nonexistent/web")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/web", r.stderr.decode("utf-8", "replace"))

    def test_no_subcommand(self):
        r = run_herald()
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr or r.stdout)

    def test_help(self):
        r = run_herald("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("serve", out)
        self.assertIn("--help", out)

    def test_serve_help(self):
        r = run_herald("serve", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        for flag in ("--host", "--port", "--threads", "--log-level", "--web", "--single-acceptor",
                     "--no-access-log"):
            self.assertIn(flag, out)

    def test_version(self):
        r = run_herald("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("herald", r.stdout.decode())


if __name__ == "__main__":
    harness.run_tests()
