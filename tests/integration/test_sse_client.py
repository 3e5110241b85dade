"""Herald's SSE client (sse::connect through tests/support/sse_client.cpp, and `herald sse`) against a
Python event-stream server written here with http.server (a framework we did not write) and against
`herald serve`: ids, reconnection with Last-Event-ID after the server's retry delay, the three body
framings, 204, wrong status and content type, redirects (same origin, cross origin without credentials,
the cap), the event size limit, and the CLI's output and exit codes through pipes."""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import IO_TIMEOUT, STOP_TIMEOUT, curl, run_tests  # noqa: E402

SSE_CLIENT = os.environ.get("HERALD_TEST_SSE_CLIENT", "")
RUN_TIMEOUT = 30.0  # one client run, start to exit (ASan builds on a shared machine are slow)

# ---------------------------------------------------------------------------------------------
# The Python server. Each path prefix is a scenario; the n-th request to a path (counted per path)
# picks what the n-th connection gets. Requests are recorded with their headers and arrival times.


class Recorded:
    def __init__(self, path, headers, at):
        self.path = path
        self.headers = headers  # {lower-case name: value}
        self.at = at


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # bodies end when the connection closes, unless a scenario frames them

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            n = sum(1 for r in srv.requests if r.path == self.path)
            srv.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic()))
        name = self.path.lstrip("/").split("/")[0].split("?")[0].replace("-", "_")
        getattr(self, "scenario_" + name, self.scenario_missing)(n)
        with srv.lock:
            srv.ended.append((self.path, time.monotonic()))

    def scenario_missing(self, n):
        self.send_error(404)

    def head(self, status=200, content_type="text/event-stream", extra=()):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def write(self, data):
        self.wfile.write(data.encode() if isinstance(data, str) else data)
        self.wfile.flush()

    def hold(self, seconds=5.0):
        """Keeps the stream open until the client leaves (or `seconds` pass)."""
        self.connection.settimeout(seconds)
        try:
            self.connection.recv(1)
        except OSError:
            pass

    # Connection 1: retry 100 ms, events 1 and 2, then the server closes. Connection 2 (which must carry
    # Last-Event-ID: 2): event 3, then it stays open for a second. Later connections: 204.
    def scenario_reconnect(self, n):
        if n == 0:
            self.head()
            self.write("retry: 100\n\n: a comment\nid: 1\ndata: one\n\n")
            self.write("id: 2\nevent: tick\ndata: two\ndata: lines\n\n")
        elif n == 1:
            self.head()
            self.write("id: 3\ndata: three\n\n")
            self.hold(1.0)
        else:
            self.head(204, content_type=None)

    # One event, then 204 on the reconnection.
    def scenario_then204(self, n):
        if n == 0:
            self.head()
            self.write("retry: 50\ndata: first\n\n")
        else:
            self.head(204, content_type=None)

    # One event, then a reconnection answered with text/plain.
    def scenario_then_wrong_type(self, n):
        if n == 0:
            self.head()
            self.write("retry: 50\ndata: first\n\n")
        else:
            self.head(content_type="text/plain")
            self.write("data: not an event stream\n\n")

    def scenario_nocontent(self, n):
        self.head(204, content_type=None)

    def scenario_html(self, n):
        self.head(content_type="text/html")
        self.write("<p>hi</p>")

    def scenario_missing_page(self, n):
        self.head(404, content_type="text/plain")
        self.write("not here")

    # Events split across chunks at awkward places, then the last chunk ends the stream (HTTP/1.1).
    def scenario_chunked(self, n):
        self.protocol_version = "HTTP/1.1"
        self.head(extra=[("Transfer-Encoding", "chunked")])
        for part in ["id: c1\nda", "ta: al", "pha\n", "\ndata: beta\r\n\r", "\n"]:
            self.write("%x\r\n%s\r\n" % (len(part.encode()), part))
        self.write("0\r\n\r\n")
        self.hold(2.0)  # the stream ended with the last chunk, though the connection stays

    # A chunked body cut in the middle of a chunk: the connection is lost, not ended.
    def scenario_chunked_cut(self, n):
        self.protocol_version = "HTTP/1.1"
        self.head(extra=[("Transfer-Encoding", "chunked")])
        self.write("9\r\ndata: x\n\n\r\n20\r\ndata: cut")
        self.close_connection = True

    # Content-Length frames the stream: it ends after those bytes though the connection stays open.
    def scenario_length(self, n):
        body = "data: sized\n\nevent: e2\ndata: two\n\n"
        self.protocol_version = "HTTP/1.1"
        self.head(extra=[("Content-Length", str(len(body)))])
        self.write(body)
        self.hold(2.0)

    # One short stream with ids, for the CLI: it ends when the server closes.
    def scenario_finite(self, n):
        self.head()
        self.write("id: 7\nevent: greeting\ndata: hello\n\ndata: multi\ndata: line \"quoted\"\n\n")

    def scenario_redirect(self, n):
        self.head(302, content_type=None, extra=[("Location", "/finite")])

    def scenario_redirect_cross(self, n):
        target = "http://127.0.0.1:%d/finite" % self.server.other_port
        self.head(307, content_type=None, extra=[("Location", target)])

    def scenario_loop(self, n):
        self.head(302, content_type=None, extra=[("Location", "/loop")])

    # An event far over the client's limit.
    def scenario_big(self, n):
        self.head()
        self.write("data: " + "x" * 100000 + "\n\n")
        self.hold(2.0)

    # One event, then a reconnection time of a minute.
    def scenario_longretry(self, n):
        self.head()
        self.write("retry: 60000\ndata: a\n\n")

    # Many events at once, for a consumer slower than the stream.
    def scenario_many(self, n):
        self.head()
        self.write("".join("id: %d\ndata: %s\n\n" % (i, "y" * 100) for i in range(300)))

    # Goes quiet after one event: for the idle timeout.
    def scenario_quiet(self, n):
        self.head()
        self.write("data: only\n\n")
        self.hold(5.0)


class PyServer:
    def __init__(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.lock = threading.Lock()
        self.httpd.requests = []
        self.httpd.ended = []
        self.httpd.other_port = 0
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def requests(self, path):
        with self.httpd.lock:
            return [r for r in self.httpd.requests if r.path == path]

    def ended(self, path):
        with self.httpd.lock:
            return [at for p, at in self.httpd.ended if p == path]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# Running clients


def run_client(url, *flags):
    """Runs the sse::Client driver to its end; returns its JSON lines."""
    harness.require_binary(SSE_CLIENT, "HERALD_TEST_SSE_CLIENT")
    p = subprocess.run([SSE_CLIENT, url] + [str(f) for f in flags], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("sse client exited %d\nstderr:\n%s" % (p.returncode, p.stderr.decode()))
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def run_cli(*args, timeout=RUN_TIMEOUT):
    """`herald sse ARGS` through pipes: (exit code, stdout, stderr)."""
    harness.require_binary(harness.HERALD_BIN, "HERALD_BIN")
    p = subprocess.run([harness.HERALD_BIN, "sse"] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def events(lines):
    return [(l["type"], l["data"], l["id"]) for l in lines if l["kind"] == "event"]


def kinds(lines):
    return [l["kind"] for l in lines]


def the(lines, kind):
    found = [l for l in lines if l["kind"] == kind]
    assert len(found) == 1, "expected one %r line in %r" % (kind, lines)
    return found[0]


class PythonServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.py = PyServer()
        cls.other = PyServer()  # another origin (another port), for cross-origin redirects
        cls.py.httpd.other_port = cls.other.port

    @classmethod
    def tearDownClass(cls):
        cls.py.stop()
        cls.other.stop()

    def unique(self, scenario):
        """A path of `scenario` that no other test uses (requests are counted per path)."""
        return "/%s/%s" % (scenario, self.id().rsplit(".", 1)[-1])

    # --- events, ids and reconnection ---

    def check_reconnect_run(self, style):
        path = self.unique("reconnect")
        lines = run_client(self.py.url(path), "--style", style, "--close-after", 3)
        self.assertEqual(events(lines), [("message", "one", "1"), ("tick", "two\nlines", "2"), ("message", "three", "3")])
        self.assertEqual(kinds(lines)[0], "connected")
        self.assertEqual(the(lines, "connected")["state"], "open")
        # The drop is reported, the client waits to reconnect, and the reopened stream is announced.
        error = the(lines, "error")
        self.assertEqual(error["state"], "connecting")
        self.assertIn("ended the stream", error["why"])
        self.assertEqual(the(lines, "open")["state"], "open")
        end = the(lines, "end")
        self.assertEqual((end["reason"], end["last_event_id"], end["retry"]), ("closed", "3", 100))

        reqs = self.py.requests(path)
        self.assertEqual(len(reqs), 2)
        first, second = reqs
        self.assertEqual(first.headers.get("accept"), "text/event-stream")
        self.assertEqual(first.headers.get("cache-control"), "no-cache")
        self.assertNotIn("last-event-id", first.headers)
        self.assertEqual(second.headers.get("last-event-id"), "2")
        # retry: 100 was honoured: not before it, and well before the 3 s default.
        gap = second.at - self.py.ended(path)[0]
        self.assertGreaterEqual(gap, 0.09)
        self.assertLess(gap, 2.0)

    def test_reconnects_with_last_event_id_after_retry(self):
        self.check_reconnect_run("next")

    def test_callbacks_in_vapor_style(self):
        self.check_reconnect_run("vapor")

    def test_initial_last_event_id_and_extra_headers(self):
        path = self.unique("finite")
        lines = run_client(self.py.url(path), "--no-reconnect", "--last-event-id", "resume-5",
                           "--header", "Authorization: Bearer abc", "--header", "X-Extra: 1")
        self.assertEqual(len(events(lines)), 2)
        headers = self.py.requests(path)[0].headers
        self.assertEqual(headers.get("last-event-id"), "resume-5")
        self.assertEqual(headers.get("authorization"), "Bearer abc")
        self.assertEqual(headers.get("x-extra"), "1")

    # --- stopping for good ---

    def test_stops_on_204_at_reconnection(self):
        path = self.unique("then204")
        lines = run_client(self.py.url(path), "--retry-ms", 5000)  # the stream's retry: 50 wins
        self.assertEqual(events(lines), [("message", "first", "")])
        end = the(lines, "end")
        self.assertEqual(end["reason"], "no_content")
        self.assertIn("204", end["why"])
        time.sleep(0.3)
        self.assertEqual(len(self.py.requests(path)), 2)  # no reconnection after the 204

    def test_204_at_first_connection(self):
        lines = run_client(self.py.url(self.unique("nocontent")))
        self.assertEqual(the(lines, "connect_failed")["status"], 204)

    def test_stops_on_wrong_content_type(self):
        lines = run_client(self.py.url(self.unique("html")))
        failed = the(lines, "connect_failed")
        self.assertEqual(failed["status"], 200)
        self.assertIn("text/html", failed["why"])
        self.assertIn("text/event-stream", failed["why"])

    def test_stops_on_wrong_content_type_at_reconnection(self):
        path = self.unique("then-wrong-type")
        lines = run_client(self.py.url(path), "--style", "vapor")
        self.assertEqual(events(lines), [("message", "first", "")])
        end = the(lines, "end")
        self.assertEqual(end["reason"], "failed")
        self.assertIn("text/plain", end["why"])
        errors = [l for l in lines if l["kind"] == "error"]
        self.assertEqual([e["state"] for e in errors], ["connecting", "closed"])
        time.sleep(0.3)
        self.assertEqual(len(self.py.requests(path)), 2)

    def test_stops_on_a_status_other_than_200(self):
        failed = the(run_client(self.py.url(self.unique("missing-page"))), "connect_failed")
        self.assertEqual(failed["status"], 404)
        self.assertIn("404", failed["why"])

    def test_cannot_connect(self):
        failed = the(run_client("http://127.0.0.1:%d/x" % harness.free_port()), "connect_failed")
        self.assertEqual(failed["status"], 0)
        self.assertIn("cannot connect", failed["why"])

    def test_https_needs_tls(self):
        failed = the(run_client("https://127.0.0.1:1/x"), "connect_failed")
        self.assertIn("https needs TLS", failed["why"])

    def test_event_over_the_limit_fails_the_client(self):
        path = self.unique("big")
        lines = run_client(self.py.url(path), "--max-event-bytes", 4096)
        end = the(lines, "end")
        self.assertEqual(end["reason"], "failed")
        self.assertIn("max_event_bytes", end["why"])
        self.assertEqual(len(self.py.requests(path)), 1)

    def test_idle_timeout_counts_as_a_lost_connection(self):
        lines = run_client(self.py.url(self.unique("quiet")), "--no-reconnect", "--idle-timeout-ms", 300)
        self.assertEqual(events(lines), [("message", "only", "")])
        end = the(lines, "end")
        self.assertEqual(end["reason"], "lost")
        self.assertIn("no data for 300 ms", end["why"])

    def test_close_cancels_the_wait_to_reconnect(self):
        started = time.monotonic()
        lines = run_client(self.py.url(self.unique("longretry")), "--deadline-ms", 500)
        self.assertEqual(kinds(lines)[-2:], ["deadline", "end"])
        self.assertEqual(the(lines, "error")["state"], "connecting")
        self.assertEqual(the(lines, "end")["reason"], "closed")
        self.assertLess(time.monotonic() - started, 10)

    def test_slow_consumer_pauses_reading_and_loses_nothing(self):
        lines = run_client(self.py.url(self.unique("many")), "--no-reconnect", "--max-queued-bytes", 1000,
                           "--next-delay-ms", 1)
        self.assertEqual([e[2] for e in events(lines)], [str(i) for i in range(300)])
        self.assertEqual(the(lines, "end")["reason"], "ended")

    # --- body framing ---

    def test_chunked_stream_ends_with_its_last_chunk(self):
        started = time.monotonic()
        lines = run_client(self.py.url(self.unique("chunked")), "--no-reconnect")
        self.assertEqual(events(lines), [("message", "alpha", "c1"), ("message", "beta", "c1")])
        self.assertEqual(the(lines, "end")["reason"], "ended")
        self.assertLess(time.monotonic() - started, 1.9)  # did not wait for the connection to close

    def test_chunked_stream_cut_short_is_lost(self):
        lines = run_client(self.py.url(self.unique("chunked-cut")), "--no-reconnect")
        self.assertEqual(events(lines), [("message", "x", "")])
        self.assertEqual(the(lines, "end")["reason"], "lost")

    def test_content_length_stream_ends_after_its_length(self):
        started = time.monotonic()
        lines = run_client(self.py.url(self.unique("length")), "--no-reconnect")
        self.assertEqual(events(lines), [("message", "sized", ""), ("e2", "two", "")])
        self.assertEqual(the(lines, "end")["reason"], "ended")
        self.assertLess(time.monotonic() - started, 1.9)

    # --- redirects ---

    def test_follows_a_redirect_keeping_credentials_on_the_same_origin(self):
        lines = run_client(self.py.url("/redirect/same"), "--no-reconnect", "--header", "Authorization: Bearer s3")
        self.assertEqual(len(events(lines)), 2)
        self.assertEqual(the(lines, "connected")["url"], self.py.url("/finite"))
        final = [r for r in self.py.requests("/finite") if r.headers.get("authorization") == "Bearer s3"]
        self.assertEqual(len(final), 1)

    def test_cross_origin_redirect_drops_credentials(self):
        before = len(self.other.requests("/finite"))
        lines = run_client(self.py.url("/redirect-cross/x"), "--no-reconnect", "--header", "Authorization: Bearer s3",
                           "--header", "Cookie: session=1", "--header", "X-Keep: yes")
        self.assertEqual(len(events(lines)), 2)
        self.assertEqual(the(lines, "connected")["url"], self.other.url("/finite"))
        self.assertEqual(self.py.requests("/redirect-cross/x")[0].headers.get("authorization"), "Bearer s3")
        reqs = self.other.requests("/finite")
        self.assertEqual(len(reqs), before + 1)
        headers = reqs[-1].headers
        self.assertNotIn("authorization", headers)
        self.assertNotIn("cookie", headers)
        self.assertEqual(headers.get("x-keep"), "yes")

    def test_redirect_cap(self):
        before = len(self.py.requests("/loop"))
        failed = the(run_client(self.py.url("/loop"), "--max-redirects", 3), "connect_failed")
        self.assertIn("more than 3 redirects", failed["why"])
        self.assertEqual(failed["status"], 302)
        self.assertEqual(len(self.py.requests("/loop")) - before, 4)

    # --- herald sse ---

    def test_cli_json_once(self):
        rc, out, err = run_cli(self.py.url(self.unique("finite")), "--json", "--once")
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(l) for l in out.splitlines()],
                         [{"event": "greeting", "data": "hello", "id": "7"},
                          {"event": "message", "data": "multi\nline \"quoted\"", "id": "7"}])

    def test_cli_readable_output(self):
        rc, out, err = run_cli(self.py.url(self.unique("finite")), "--once")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "event: greeting\nid: 7\nhello\n\nid: 7\nmulti\nline \"quoted\"\n\n")

    def test_cli_reconnects_by_default_until_204(self):
        path = self.unique("reconnect")
        rc, out, err = run_cli(self.py.url(path), "--json", "-H", "X-From: cli")
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(l)["data"] for l in out.splitlines()], ["one", "two\nlines", "three"])
        self.assertIn("reconnecting in 100 ms", err)
        self.assertIn("204", err)
        reqs = self.py.requests(path)
        self.assertEqual([r.headers.get("last-event-id") for r in reqs], [None, "2", "3"])
        self.assertTrue(all(r.headers.get("x-from") == "cli" for r in reqs))

    def test_cli_last_event_id(self):
        path = self.unique("finite")
        rc, _, err = run_cli(self.py.url(path), "--once", "--last-event-id", "41")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.py.requests(path)[0].headers.get("last-event-id"), "41")

    def test_cli_exit_codes(self):
        rc, out, err = run_cli(self.py.url(self.unique("nocontent")))
        self.assertEqual((rc, out), (0, ""), err)
        rc, out, err = run_cli(self.py.url(self.unique("html")))
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("text/html", err)
        rc, _, err = run_cli(self.py.url(self.unique("missing-page")))
        self.assertEqual(rc, 1)
        self.assertIn("404", err)
        rc, _, err = run_cli("http://127.0.0.1:%d/x" % harness.free_port())
        self.assertEqual(rc, 1)
        self.assertIn("cannot connect", err)
        rc, _, err = run_cli(self.py.url("/loop"), "--max-redirects", 2)
        self.assertEqual(rc, 1)
        self.assertIn("more than 2 redirects", err)
        rc, _, err = run_cli(self.py.url(self.unique("chunked-cut")), "--once")
        self.assertEqual(rc, 4)
        self.assertIn("inside the response body", err)
        rc, _, err = run_cli("ftp://example/x")
        self.assertEqual(rc, 1)


class HeraldServeTest(harness.HeraldServeTestCase):
    FLAGS = ("--log-level", "warn", "--no-access-log", "--web", os.path.join(harness.SOURCE_DIR, "web"))

    def publish_until_delivered(self, body, event, streams=1):
        """Publishes until `streams` streams are registered (a publish to none is lost, not queued)."""
        deadline = time.monotonic() + IO_TIMEOUT
        while time.monotonic() < deadline:
            r = curl("-X", "POST", "--data-binary", body, self.url("/publish?event=" + event))
            if r.body == b"%d\n" % streams:
                return
            time.sleep(0.05)
        self.fail("no stream registered for the publish")

    def test_client_gets_a_published_event(self):
        client = harness.ServerProcess([SSE_CLIENT, self.url("/events?id=api"), "--close-after", 1])
        try:
            self.assertIsNotNone(client.wait_line(lambda l: '"connected"' in l, RUN_TIMEOUT))
            self.publish_until_delivered("hello\nfrom herald", "news")
            self.assertEqual(client.wait(RUN_TIMEOUT), 0)
            lines = [json.loads(l) for l in client.stdout_lines_after_exit()]
            self.assertEqual(events(lines), [("news", "hello\nfrom herald", "")])
            self.assertEqual(the(lines, "end")["reason"], "closed")
        finally:
            client.close()

    def test_cli_prints_published_events_as_json(self):
        cli = harness.ServerProcess([harness.HERALD_BIN, "sse", "--json", self.url("/events?id=cli")])
        try:
            self.publish_until_delivered("one", "a")
            self.publish_until_delivered("two", "")
            first = cli.wait_line(lambda l: True, RUN_TIMEOUT)
            second = cli.wait_line(lambda l: True, RUN_TIMEOUT)
            self.assertEqual(json.loads(first), {"event": "a", "data": "one", "id": ""})
            self.assertEqual(json.loads(second), {"event": "message", "data": "two", "id": ""})
        finally:
            cli.send_signal(signal.SIGTERM)
            cli.wait(STOP_TIMEOUT)
            cli.close()


if __name__ == "__main__":
    run_tests()
