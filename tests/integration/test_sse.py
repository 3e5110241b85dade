"""Server-Sent Events against clients we did not write: curl -N, and a Python client (raw sockets,
its own WHATWG text/event-stream parser) for exact checks. Routes: tests/support/sse_routes.cpp;
`herald serve`'s /events and /publish for the ready hub.

SseStream and SseParser are shared with test_sse_api.py."""

import os
import select
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import IO_TIMEOUT, ServerTestCase, curl, run_tests  # noqa: E402

# ---------------------------------------------------------------------------------------------
# A text/event-stream client: WHATWG HTML §9.2.5-9.2.6, written from the spec, independent of
# Herald's parser (src/sse/parser.cpp).


class SseEvent:
    def __init__(self, type_, data, last_event_id, at):
        self.type = type_
        self.data = data
        self.last_event_id = last_event_id
        self.at = at  # time.monotonic() when it was dispatched

    def tuple(self):
        return (self.type, self.data, self.last_event_id)

    def __repr__(self):
        return "SseEvent(%r, %r, id=%r)" % (self.type, self.data[:60], self.last_event_id)


class SseParser:
    """Bytes in, events out. Lines end at CRLF, LF or CR; ':' starts a comment; a blank line
    dispatches. Comments are kept (with their arrival time) so keep-alives can be checked."""

    def __init__(self):
        self.line = b""
        self.skip_lf = False
        self.bom_checked = False
        self.data = []
        self.type = ""
        self.id_buffer = ""
        self.last_event_id = ""
        self.retry = None
        self.events = []
        self.comments = []  # (text after ':', time)

    def feed(self, chunk, now=None):
        now = time.monotonic() if now is None else now
        if not self.bom_checked:
            if len(self.line) + len(chunk) < 3 and b"\xef\xbb\xbf".startswith(self.line + chunk):
                self.line += chunk
                return
            chunk = self.line + chunk
            self.line = b""
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            self.bom_checked = True
        i = 0
        n = len(chunk)
        while i < n:
            if self.skip_lf:
                self.skip_lf = False
                if chunk[i:i + 1] == b"\n":
                    i += 1
                    continue
            j = i
            while j < n and chunk[j] not in (10, 13):
                j += 1
            self.line += chunk[i:j]
            if j == n:
                break
            if chunk[j] == 13:
                self.skip_lf = True
            self._line(self.line.decode("utf-8", "replace"), now)
            self.line = b""
            i = j + 1

    def _line(self, line, now):
        if line == "":
            self.last_event_id = self.id_buffer
            if self.data:
                data = "\n".join(self.data)
                self.events.append(SseEvent(self.type or "message", data, self.last_event_id, now))
            self.data = []
            self.type = ""
            return
        if line.startswith(":"):
            self.comments.append((line[1:], now))
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self.type = value
        elif name == "data":
            self.data.append(value)
        elif name == "id":
            if "\0" not in value:
                self.id_buffer = value
        elif name == "retry":
            if value.isdigit() and value.isascii():
                self.retry = int(value)


class SseStream:
    """GET `path` on a raw socket; the response head is read at once, the body as it comes."""

    def __init__(self, port, path, headers=(), rcvbuf=None, timeout=IO_TIMEOUT, head_timeout=IO_TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect(), so the window is small from the handshake on
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.opened_at = time.monotonic()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Accept: text/event-stream",
                 "Cache-Control: no-cache"]
        lines += ["%s: %s" % h for h in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.parser = SseParser()
        self.raw = b""       # every body byte received
        self.eof = False
        self.eof_at = None
        self.consumed = 0    # events handed out by next_event()
        self.status = None
        self.headers = []
        if rcvbuf is None:  # a client that does not read reads its head later, with _read_head()
            self._read_head(head_timeout)

    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self._recv(deadline)
            if not chunk:
                raise AssertionError("closed before a response head: %r" % buf)
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split(" ")[1])
        self.headers = [(n, v.strip()) for n, _, v in (l.partition(":") for l in lines[1:])]
        if rest:
            self._body(rest)

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(1 << 16)
        except ConnectionResetError:
            return b""

    def _body(self, chunk):
        self.raw += chunk
        self.parser.feed(chunk)

    def pump(self, deadline):
        """Reads one chunk; False at EOF. Raises socket.timeout at the deadline."""
        if self.eof:
            return False
        chunk = self._recv(deadline)
        if not chunk:
            self.eof = True
            self.eof_at = time.monotonic()
            return False
        self._body(chunk)
        return True

    def next_event(self, timeout=IO_TIMEOUT):
        """The next event, or None when the stream ended first. socket.timeout when none came in time."""
        deadline = time.monotonic() + timeout
        while self.consumed >= len(self.parser.events):
            if not self.pump(deadline):
                return None
        self.consumed += 1
        return self.parser.events[self.consumed - 1]

    def events_until_close(self, timeout=IO_TIMEOUT):
        """Every remaining event up to EOF; fails when the stream stays open past `timeout`."""
        deadline = time.monotonic() + timeout
        while self.pump(deadline):
            pass
        events = self.parser.events[self.consumed:]
        self.consumed = len(self.parser.events)
        return events

    def wait_eof(self, timeout=IO_TIMEOUT):
        """Time of EOF (monotonic), or None when still open at the deadline (body bytes are kept)."""
        deadline = time.monotonic() + timeout
        try:
            while self.pump(deadline):
                pass
        except (socket.timeout, TimeoutError):
            return None
        return self.eof_at

    def read_for(self, seconds):
        """Reads whatever comes for `seconds`; True when the stream is still open afterwards."""
        deadline = time.monotonic() + seconds
        try:
            while self.pump(deadline):
                pass
        except (socket.timeout, TimeoutError):
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def poll_until(fn, expected, timeout=IO_TIMEOUT, interval=0.02):
    """fn() until it returns `expected` or the timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout
    value = fn()
    while value != expected and time.monotonic() < deadline:
        time.sleep(interval)
        value = fn()
    return value


# ---------------------------------------------------------------------------------------------

BASIC_BODY = (b"data: hello\n\n"
              b"event: news\nid: 1\ndata: first\n\n"
              b"retry: 1500\n\n"
              b"data: a\ndata: b\ndata: c\ndata: d\n\n"
              b"event: multi\nid: 2\ndata: line 1\ndata: line 2\ndata: \n\n"
              b": just a comment\n\n"
              b"custom: custom value\ncustom: second\n\n"
              b"event: bye\nid: 3\ndata: \n\n")


class SseCurlTest(ServerTestCase):
    FLAGS = ("--threads", "2")

    def test_curl_reads_a_stream_that_closes_byte_for_byte(self):
        r = curl("-N", self.url("/sse/basic"), timeout=20)
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, BASIC_BODY)

    def test_stream_headers(self):
        r = curl("-N", self.url("/sse/basic"), timeout=20)
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.header("Content-Type"), "text/event-stream")
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        self.assertEqual(r.header("X-Accel-Buffering"), "no")
        self.assertEqual(r.header("Connection"), "close")
        # The stream's end is the connection's end: no length, no chunking.
        self.assertIsNone(r.header("Content-Length"), r.headers)
        self.assertIsNone(r.header("Transfer-Encoding"), r.headers)

    def test_append_header_before_the_first_send_is_in_the_response(self):
        r = curl("-N", self.url("/sse/basic"), timeout=20)
        self.assertEqual([v for n, v in r.headers if n.lower() == "x-sse-test"], ["appended"])

    def test_a_204_answer_is_sent_as_is(self):
        r = curl("-N", self.url("/sse/no-content"), timeout=20)
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertNotEqual(r.header("Content-Type"), "text/event-stream")


class SsePythonClientTest(ServerTestCase):
    FLAGS = ("--threads", "2")

    def test_events_in_order_as_a_browser_parses_them(self):
        with SseStream(self.port, "/sse/basic") as s:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.header("Content-Type"), "text/event-stream")
            events = s.events_until_close()
            self.assertEqual([e.tuple() for e in events], [
                ("message", "hello", ""),
                ("news", "first", "1"),
                # CR, LF and CRLF inside data arrive as separate lines, joined by LF.
                ("message", "a\nb\nc\nd", "1"),
                # A trailing line end is an empty last line: the data comes back with it.
                ("multi", "line 1\nline 2\n", "2"),
                # A named event with empty data still fires.
                ("bye", "", "3"),
            ])
            self.assertEqual(s.parser.retry, 1500)
            self.assertEqual([c for c, _ in s.parser.comments], [" just a comment"])
            self.assertEqual(s.raw, BASIC_BODY)

    def test_status_line_and_head_are_exact(self):
        with SseStream(self.port, "/sse/basic") as s:
            self.assertEqual(s.status_line, "HTTP/1.1 200 OK")
            names = [n.lower() for n, _ in s.headers]
            for name in ("content-type", "cache-control", "x-accel-buffering", "connection", "x-sse-test"):
                self.assertEqual(names.count(name), 1, s.headers)
            s.events_until_close()

    def last_event_id_seen(self, path, value=None):
        headers = [] if value is None else [("Last-Event-ID", value)]
        with SseStream(self.port, path, headers=headers) as s:
            self.assertEqual(s.status, 200)
            events = s.events_until_close()
        self.assertEqual(len(events), 1, events)
        self.assertEqual(events[0].type, "last-event-id")
        return events[0].data

    def test_last_event_id_is_read_by_the_handler(self):
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id", "news-41"), "[news-41]")
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id"), "[]")

    def test_a_last_event_id_over_the_limit_is_ignored(self):
        at_limit = "k" * 1024           # the default max_last_event_id
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id", at_limit), "[%s]" % at_limit)
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id", at_limit + "x"), "[]")
        # A route's own limit.
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id?limit=8", "12345678"), "[12345678]")
        self.assertEqual(self.last_event_id_seen("/sse/last-event-id?limit=8", "123456789"), "[]")

    def test_a_stream_answered_204(self):
        r = harness.exchange(self.port, harness.request(
            "GET", "/sse/no-content", [("Accept", "text/event-stream")]))
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertIsNone(r.header("Content-Length"), r.headers)  # RFC 9110: no Content-Length in a 204
        self.assertNotEqual(r.header("Content-Type"), "text/event-stream")

    def test_append_header_after_a_send_fails_with_a_message(self):
        with SseStream(self.port, "/sse/append-after-send") as s:
            self.assertEqual(s.header("X-Before"), "in time")
            self.assertIsNone(s.header("X-After"), s.headers)
            events = s.events_until_close()
        self.assertEqual([e.type for e in events], ["message", "append-header-error"])
        self.assertEqual(events[0].data, "first")
        message = events[1].data
        self.assertNotEqual(message, "no exception")
        self.assertIn("X-After", message)
        self.assertIn("head", message)
        self.assertIn("first message", message)

    def test_a_response_pipelined_before_the_stream_is_sent_first(self):
        # RFC 9112 §9.3.2: responses in the order of the requests. /hello is answered (corked) in the
        # same read as the stream request whose handler takes the connection over.
        with harness.connect(self.port) as sock:
            harness.send(sock, harness.request("GET", "/hello") +
                         harness.request("GET", "/sse/last-event-id", [("Last-Event-ID", "pipelined-1")]))
            reader = harness.Reader(sock)
            first = reader.read_response()
            self.assertEqual((first.status, first.body), (200, b"hello"), first)
            second = reader.read_response()  # no length: read until the stream closes
            self.assertEqual(second.status, 200)
            self.assertEqual(second.header("Content-Type"), "text/event-stream")
            self.assertEqual(second.body, b"event: last-event-id\ndata: [pipelined-1]\n\n")

    def test_a_head_request_gets_the_head_without_events(self):
        # RFC 9110 §9.3.2: no content in a response to HEAD, even from a stream route.
        with harness.connect(self.port) as sock:
            harness.send(sock, harness.request("HEAD", "/sse/basic"))
            reader = harness.Reader(sock)
            r = reader.read_response(head_request=True)
            self.assertEqual(r.status, 200)
            extra, closed = reader.read_until_close()
            self.assertTrue(closed, "the stream's connection stayed open")
            self.assertEqual(extra, b"", "event bytes after the head of a HEAD response")

    def test_server_alive(self):
        self.assertServerAlive()
        self.assertEqual(curl(self.url("/hello")).body, b"hello")


# ---------------------------------------------------------------------------------------------
# herald serve: GET /events (registered streams) and POST /publish


class CurlStream:
    """curl -N as a subprocess, its stdout read as it comes."""

    def __init__(self, url):
        self.proc = subprocess.Popen([harness.CURL, "-sSN", "--noproxy", "*", "--max-time", "60", url],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=harness._no_proxy_env())
        self.out = b""

    def read_until(self, needle, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while needle not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("curl did not print %r in time; got %r" % (needle, self.out))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("curl ended before %r; got %r, stderr %r"
                                         % (needle, self.out, self.proc.stderr.read()))
                self.out += chunk
        return self.out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


class HeraldServeSseTest(harness.HeraldServeTestCase):
    FLAGS = ("--log-level", "warn", "--no-access-log", "--web", os.path.join(harness.SOURCE_DIR, "web"))

    def publish(self, body, event="news"):
        r = curl("-X", "POST", "--data-binary", body, self.url("/publish?event=" + event))
        self.assertEqual(r.rc, 0, r.stderr)
        return r

    def test_two_curl_clients_get_a_published_event(self):
        a = CurlStream(self.url("/events?id=curl-a"))
        b = CurlStream(self.url("/events?id=curl-b"))
        try:
            # The ping policy's first comment comes at once: both streams are registered by then.
            a.read_until(b": connected\n")
            b.read_until(b": connected\n")
            r = self.publish("hello from the test")
            self.assertEqual((r.status, r.body), (200, b"2\n"))
            expected = b"event: news\ndata: hello from the test\n\n"
            self.assertTrue(a.read_until(expected).endswith(expected))
            self.assertTrue(b.read_until(expected).endswith(expected))
            # Multi-line bodies become several data lines; an unnamed event has no event field.
            r = self.publish("one\ntwo", event="")
            self.assertEqual(r.body, b"2\n")
            expected = b"data: one\ndata: two\n\n"
            self.assertTrue(a.read_until(expected).endswith(expected))
            self.assertTrue(b.read_until(expected).endswith(expected))
        finally:
            a.kill()
            b.kill()
        # Killed clients leave the registry: nobody is left to publish to.
        self.assertEqual(poll_until(lambda: self.publish("anyone?").body, b"0\n"), b"0\n")

    def test_pipelined_publishes_reach_every_client_whole_and_in_order(self):
        # Publishes arriving while earlier ones are being written share writes to each client
        # (the flusher); with two loops the streams are on both. Nothing may be lost or reordered.
        n, clients = 300, 6
        streams = [SseStream(self.port, "/events?id=order-%d" % i) for i in range(clients)]
        try:
            for s in streams:
                self.assertEqual(s.status, 200)
            with harness.connect(self.port) as pub:
                body = b"".join(harness.request("POST", "/publish?event=seq", [("Content-Length", len(b"%d" % i))],
                                                b"%d" % i) for i in range(n))
                harness.send(pub, body)
                reader = harness.Reader(pub)
                counts = [reader.read_response().body for _ in range(n)]
            self.assertEqual(set(counts), {b"%d\n" % clients})
            for s in streams:
                got = [s.next_event() for _ in range(n)]
                self.assertEqual([(e.type, e.data) for e in got], [("seq", str(i)) for i in range(n)])
        finally:
            for s in streams:
                s.close()
        # Closed clients leave the registry (the other tests count recipients).
        self.assertEqual(poll_until(lambda: self.publish("anyone?").body, b"0\n"), b"0\n")

    def test_publish_refuses_an_event_name_with_a_line_break(self):
        r = curl("-X", "POST", "--data-binary", "x", self.url("/publish?event=a%0Adata:%20injected"))
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    run_tests()
