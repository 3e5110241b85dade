"""HTTP/1.1 server core over raw sockets: pipelining, split input, limits, bad requests, timeouts,
connection limits, graceful stop and the single-acceptor mode, against tests/support/test_server."""

import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Reader, connect, exchange, request, send, send_tolerant, wait_closed  # noqa: E402

MiB = 1024 * 1024


class RawTestCase(harness.ServerTestCase):
    def tearDown(self):
        self.assertServerAlive()
        self.assertStillServing()

    def assertStillServing(self):
        r = exchange(self.port, request("GET", "/hello"))
        self.assertEqual((r.status, r.body), (200, b"hello"), "the server stopped serving new clients")


class PipeliningTest(RawTestCase):
    FLAGS = ("--threads", 2)

    def test_ten_pipelined_requests_answered_in_order(self):
        reqs = [
            ("GET", "/rooms/0", b"", b"0"),
            ("GET", "/hello", b"", b"hello"),
            ("POST", "/echo", b"pipelined body", b"pipelined body"),
            ("HEAD", "/hello", b"", b""),
            ("GET", "/rooms/4", b"", b"4"),
            ("PUT", "/echo?q=five", b"", b""),
            ("GET", "/stream?n=2", b"", b"chunk 0\nchunk 1\n"),
            ("GET", "/nope", b"", None),
            ("POST", "/small-body", b"12345678", b"8"),
            ("GET", "/rooms/9", b"", b"9"),
        ]
        data = b""
        for method, target, body, _ in reqs:
            headers = [("Content-Length", str(len(body)))] if body else []
            data += request(method, target, headers, body)
        with connect(self.port) as s:
            send(s, data)
            reader = Reader(s)
            for i, (method, target, body, expected) in enumerate(reqs):
                r = reader.read_response(head_request=(method == "HEAD"))
                if expected is None:
                    self.assertEqual(r.status, 404, (i, target))
                    continue
                self.assertEqual((r.status, r.body), (200, expected), (i, method, target, r))
                self.assertFalse(r.closes, (i, r))
                if method == "HEAD":
                    self.assertEqual(r.header("Content-Length"), "5")
                if target.startswith("/echo"):
                    self.assertEqual(r.header("X-Method"), method)
            self.assertEqual(r.body, b"9")
            # Nothing more: the connection waits for the next request.
            s.settimeout(0.3)
            with self.assertRaises((socket.timeout, TimeoutError)):
                s.recv(1)

    def test_pipelining_keeps_order_around_an_async_handler(self):
        targets = ["/rooms/a", "/rooms/b", "/slow?ms=50", "/rooms/c", "/throw-async", "/rooms/d", "/slow?ms=10",
                   "/hello"]
        expected = [(200, b"a"), (200, b"b"), (200, b"slow done"), (200, b"c"), (500, None), (200, b"d"),
                    (200, b"slow done"), (200, b"hello")]
        with connect(self.port) as s:
            send(s, b"".join(request("GET", t) for t in targets))
            reader = Reader(s)
            for t, (status, body) in zip(targets, expected):
                r = reader.read_response()
                self.assertEqual(r.status, status, (t, r))
                if body is not None:
                    self.assertEqual(r.body, body, t)

    def test_pipelined_body_requests_split_across_sends(self):
        # The second request's head arrives together with the end of the first one's body.
        body1, body2 = b"a" * 30000, b"b" * 777
        data = request("POST", "/echo", [("Content-Length", len(body1))], body1) + \
            request("POST", "/echo", [("Content-Length", len(body2))], body2)
        cut = len(data) - len(body2) - 20
        with connect(self.port) as s:
            send(s, data[:cut])
            time.sleep(0.05)
            send(s, data[cut:])
            reader = Reader(s)
            self.assertEqual(reader.read_response().body, body1)
            self.assertEqual(reader.read_response().body, body2)

    def test_request_split_byte_by_byte(self):
        body = b"split-body"
        data = request("POST", "/echo?q=a%20b", [("Content-Length", len(body)), ("X-Extra", "v")], body)
        data += request("GET", "/rooms/next")
        with connect(self.port) as s:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.002)
            reader = Reader(s)
            r = reader.read_response()
            self.assertEqual((r.status, r.body), (200, body))
            self.assertEqual(r.header("X-Query"), "a b")
            self.assertEqual(reader.read_response().body, b"next")

    def test_chunked_request_split_byte_by_byte(self):
        data = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n")
        with connect(self.port) as s:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.002)
            r = Reader(s).read_response()
            self.assertEqual((r.status, r.body), (200, b"hello, world"))


    def test_head_answers_have_no_body(self):
        targets = ["/hello", "/stream?n=3", "/big?n=100000", "/nope"]
        with connect(self.port) as s:
            send(s, b"".join(request("HEAD", t) for t in targets) + request("GET", "/rooms/after"))
            reader = Reader(s)
            heads = [reader.read_response(head_request=True) for _ in targets]
            self.assertEqual([h.status for h in heads], [200, 200, 200, 404])
            self.assertEqual(heads[0].header("Content-Length"), "5")
            self.assertEqual(heads[2].header("Content-Length"), "100000")
            self.assertEqual((reader.read_response().body), b"after", "a HEAD answer carried a body")

    def test_client_reading_slowly_gets_every_pipelined_response(self):
        # 30 large answers pipelined; the client reads only after the server had to hold output back.
        n, size = 30, 300_000
        expected = bytearray(b"x" * size)
        for i in range(0, size, 997):
            expected[i] = ord("a") + (i // 997) % 26
        with connect(self.port, timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            send(s, b"".join(request("GET", "/big?n=%d" % size) for _ in range(n)) + request("GET", "/rooms/end"))
            time.sleep(0.5)
            reader = Reader(s)
            for i in range(n):
                r = reader.read_response(timeout=30)
                self.assertEqual(r.status, 200, i)
                self.assertTrue(r.body == expected, "response %d differs" % i)
            self.assertEqual(reader.read_response().body, b"end")

    def test_get_with_a_body_keeps_the_framing(self):
        with connect(self.port) as s:
            body = b"GET /rooms/evil HTTP/1.1\r\nHost: t\r\n\r\n"  # a body, not a request
            send(s, request("GET", "/rooms/x", [("Content-Length", len(body))], body) + request("GET", "/rooms/y"))
            reader = Reader(s)
            self.assertEqual(reader.read_response().body, b"x")
            self.assertEqual(reader.read_response().body, b"y")

    def test_expect_100_continue(self):
        with connect(self.port) as s:
            send(s, request("POST", "/echo", [("Content-Length", 11), ("Expect", "100-continue")]))
            reader = Reader(s)
            interim = reader.read_response(skip_interim=False)
            self.assertEqual(interim.status, 100)
            send(s, b"hello there")
            r = reader.read_response()
            self.assertEqual((r.status, r.body), (200, b"hello there"))

    def test_expect_100_continue_chunked(self):
        with connect(self.port) as s:
            send(s, b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            reader = Reader(s)
            self.assertEqual(reader.read_response(skip_interim=False).status, 100)
            send(s, b"4\r\nwxyz\r\n0\r\n\r\n")
            r = reader.read_response()
            self.assertEqual((r.status, r.body), (200, b"wxyz"))

    def test_expect_100_continue_with_body_already_sent_gets_no_interim(self):
        with connect(self.port) as s:
            send(s, request("POST", "/echo", [("Content-Length", 5), ("Expect", "100-continue")], b"early"))
            r = Reader(s).read_response(skip_interim=False)
            self.assertEqual((r.status, r.body), (200, b"early"))

    def test_expect_100_continue_over_the_limit_gets_413_not_100(self):
        with connect(self.port) as s:
            send(s, request("POST", "/small-body", [("Content-Length", 50 * MiB), ("Expect", "100-continue")]))
            reader = Reader(s)
            r = reader.read_response(skip_interim=False)
            self.assertEqual(r.status, 413)
            self.assertTrue(r.closes)

    def test_http_1_0_keep_alive(self):
        with connect(self.port) as s:
            reader = Reader(s)
            for i in range(2):
                send(s, b"GET /rooms/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % i)
                r = reader.read_response()
                self.assertEqual(r.body, str(i).encode())
                self.assertTrue(r.has_token("Connection", "keep-alive"), r)
            send(s, b"GET /rooms/last HTTP/1.0\r\n\r\n")
            r = reader.read_response()
            self.assertEqual(r.body, b"last")
            self.assertTrue(r.closes)
            self.assertTrue(reader.read_until_close()[1])

    def test_client_connection_close(self):
        with connect(self.port) as s:
            send(s, request("GET", "/hello", [("Connection", "close")]) + request("GET", "/rooms/never"))
            reader = Reader(s)
            r = reader.read_response()
            self.assertEqual(r.body, b"hello")
            self.assertTrue(r.closes)
            extra, closed = reader.read_until_close()
            self.assertTrue(closed)
            self.assertEqual(extra, b"")

    def test_chunked_then_pipelined(self):
        with connect(self.port) as s:
            send(s, b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"3\r\nabc\r\n0\r\n\r\n" + request("GET", "/rooms/z"))
            reader = Reader(s)
            self.assertEqual(reader.read_response().body, b"abc")
            self.assertEqual(reader.read_response().body, b"z")


class LimitsTest(RawTestCase):
    FLAGS = ("--threads", 2, "--max-body", MiB)

    def expect_error(self, raw, status, send_more=b""):
        """Sends raw (then send_more, tolerating a closed peer); expects `status`, Connection: close
        and the server closing the connection."""
        with connect(self.port) as s:
            send(s, raw)
            if send_more:
                send_tolerant(s, send_more)
            reader = Reader(s)
            r = reader.read_response()
            self.assertEqual(r.status, status, r)
            self.assertTrue(r.closes, "no 'Connection: close' in %r" % (r,))
            extra, closed = reader.read_until_close()
            self.assertTrue(closed, "the server did not close the connection after %d" % status)
            self.assertEqual(extra, b"")
        return r

    # ---- head limits ----

    @staticmethod
    def target_for_request_line(n):
        """A target making "GET <target> HTTP/1.1" exactly n bytes long."""
        return "/echo?q=" + "a" * (n - len("GET /echo?q= HTTP/1.1"))

    @staticmethod
    def fields_of(n):
        """Header fields (Host included) whose lines, CRLFs included, are exactly n bytes."""
        return [("X-Fill", "v" * (n - len("Host: test\r\n") - len("X-Fill: \r\n")))]

    def test_request_line_too_long_414(self):
        self.expect_error(request("GET", "/echo?q=" + "a" * (9 * 1024)), 414)
        self.expect_error(request("GET", self.target_for_request_line(8 * 1024 + 1)), 414)

    def test_request_line_of_8_kib_is_served(self):
        r = exchange(self.port, request("GET", self.target_for_request_line(8 * 1024)))
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.header("X-Query")), 8 * 1024 - len("GET /echo?q= HTTP/1.1"))

    def test_header_block_too_large_431(self):
        headers = [("X-Big-%d" % i, "v" * 1000) for i in range(20)]  # ~20 KiB in 21 fields
        self.expect_error(request("GET", "/hello", headers), 431)
        self.expect_error(request("GET", "/hello", self.fields_of(16 * 1024 + 1)), 431)

    def test_header_block_of_16_kib_is_served(self):
        r = exchange(self.port, request("GET", "/hello", self.fields_of(16 * 1024)))
        self.assertEqual((r.status, r.body), (200, b"hello"))

    def test_too_many_header_fields_431(self):
        headers = [("X-F%d" % i, "1") for i in range(100)]  # plus Host: 101 fields
        self.expect_error(request("GET", "/hello", headers), 431)

    def test_one_hundred_header_fields_are_allowed(self):
        headers = [("X-F%d" % i, "1") for i in range(99)]  # plus Host: 100 fields
        r = exchange(self.port, request("GET", "/hello", headers))
        self.assertEqual((r.status, r.body), (200, b"hello"))

    # ---- body limits ----

    def test_declared_body_over_the_limit_413_without_sending_it(self):
        # Only the head is sent: the server must answer from Content-Length alone.
        self.expect_error(request("POST", "/echo", [("Content-Length", MiB + 1)]), 413)

    def test_body_at_the_limit_is_accepted(self):
        body = b"z" * MiB
        r = exchange(self.port, request("POST", "/small-body", [("Content-Length", len(body))], body))
        self.assertEqual((r.status, r.body), (200, str(MiB).encode()))

    def test_route_override_accepts_a_bigger_body(self):
        body = os.urandom(2 * MiB)
        r = exchange(self.port, request("POST", "/big-body", [("Content-Length", len(body))], body), timeout=30)
        self.assertEqual((r.status, r.body), (200, str(2 * MiB).encode()))

    def test_route_without_override_rejects_the_same_body(self):
        self.expect_error(request("POST", "/small-body", [("Content-Length", 2 * MiB)]), 413,
                          send_more=b"x" * (2 * MiB))

    def test_chunked_body_over_the_limit_413(self):
        # One chunk whose size alone is over the limit: refused before any data is sent.
        head = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        self.expect_error(head + b"%x\r\n" % (MiB + 1), 413)

    def test_chunked_body_growing_over_the_limit_413(self):
        # Many chunks that are each small but add up to more than the limit.
        head = b"POST /small-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b"c" * 0x10000 + b"\r\n"
        self.expect_error(head, 413, send_more=chunk * 17 + b"0\r\n\r\n")

    def test_chunked_body_under_the_limit_on_big_route(self):
        head = b"POST /big-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b"c" * 0x10000 + b"\r\n"
        r = exchange(self.port, head + chunk * 24 + b"0\r\n\r\n", timeout=30)
        self.assertEqual((r.status, r.body), (200, str(24 * 0x10000).encode()))

    # ---- malformed requests ----

    def test_chunked_body_at_the_limit_is_accepted(self):
        head = b"POST /small-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        r = exchange(self.port, head + b"%x\r\n" % MiB + b"k" * MiB + b"\r\n0\r\n\r\n", timeout=30)
        self.assertEqual((r.status, r.body), (200, str(MiB).encode()))
        self.expect_error(head + b"%x\r\n" % MiB + b"k" * MiB + b"\r\n1\r\n", 413)

    def test_unsupported_expectation_417(self):
        self.expect_error(request("POST", "/echo", [("Content-Length", 2), ("Expect", "something-else")], b"hi"),
                          417)

    def test_content_length_and_transfer_encoding_400(self):
        self.expect_error(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400)

    def test_duplicate_content_length_400(self):
        self.expect_error(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                          400)

    def test_unknown_transfer_coding_501(self):
        self.expect_error(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                          b"0\r\n\r\n", 501)

    def test_obs_fold_400(self):
        self.expect_error(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n  b\r\n\r\n", 400)

    def test_missing_host_in_http_1_1_400(self):
        self.expect_error(b"GET /hello HTTP/1.1\r\nAccept: */*\r\n\r\n", 400)

    def test_missing_host_in_http_1_0_is_fine(self):
        with connect(self.port) as s:
            send(s, b"GET /hello HTTP/1.0\r\n\r\n")
            r = Reader(s).read_response()
            self.assertEqual((r.status, r.body), (200, b"hello"))

    def test_bare_lf_400(self):
        self.expect_error(b"GET /hello HTTP/1.1\nHost: t\n\n", 400)

    def test_bare_lf_in_header_section_400(self):
        self.expect_error(b"GET /hello HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n", 400)

    def test_http_2_0_505(self):
        self.expect_error(b"GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505)

    def test_space_before_colon_400(self):
        self.expect_error(b"GET /hello HTTP/1.1\r\nHost : t\r\n\r\n", 400)

    def test_garbage_400(self):
        self.expect_error(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n", 400)

    def test_bad_request_after_a_good_one_on_the_same_connection(self):
        with connect(self.port) as s:
            send(s, request("GET", "/hello") + b"GET /hello HTTP/1.1\r\nHost : t\r\n\r\n" + request("GET", "/hello"))
            reader = Reader(s)
            ok = reader.read_response()
            self.assertEqual((ok.status, ok.closes), (200, False))
            bad = reader.read_response()
            self.assertEqual(bad.status, 400)
            self.assertTrue(bad.closes)
            extra, closed = reader.read_until_close()
            self.assertTrue(closed)
            self.assertEqual(extra, b"", "the request after the bad one must not be answered")


class TimeoutsTest(RawTestCase):
    HEADER, BODY, IDLE = 0.5, 0.5, 0.7
    FLAGS = ("--threads", 2, "--header-timeout-ms", 500, "--body-timeout-ms", 500, "--idle-timeout-ms", 700)

    def assertWithin(self, elapsed, timeout, what):
        self.assertIsNotNone(elapsed, "%s: the connection was never closed" % what)
        self.assertGreaterEqual(elapsed, 0.8 * timeout, "%s: closed too early (%.3fs)" % (what, elapsed))
        self.assertLess(elapsed, 5 * timeout, "%s: closed too late (%.3fs)" % (what, elapsed))

    def test_slowloris_gets_408_at_the_header_timeout_while_others_are_served(self):
        s = connect(self.port)
        start = time.monotonic()
        stop = threading.Event()

        def trickle():
            send_tolerant(s, b"GET /hello HTTP/1.1\r\nHost: t\r\n")
            i = 0
            while not stop.wait(0.2):
                if not send_tolerant(s, b"X-Slow-%d: 1\r\n" % i):
                    return
                i += 1

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        try:
            # Meanwhile, other clients are served normally.
            for _ in range(3):
                time.sleep(0.1)
                r = exchange(self.port, request("GET", "/rooms/other"))
                self.assertEqual((r.status, r.body), (200, b"other"))
            reader = Reader(s)
            r = reader.read_response(timeout=10)
            answered = time.monotonic() - start
            self.assertEqual(r.status, 408, r)
            self.assertTrue(r.closes)
            extra, closed = reader.read_until_close(timeout=10)
            closed_at = time.monotonic() - start
            self.assertTrue(closed, "the slowloris connection was not closed")
            self.assertEqual(extra, b"")
            self.assertWithin(answered, self.HEADER, "slowloris 408")
            self.assertWithin(closed_at, self.HEADER, "slowloris close")
        finally:
            stop.set()
            t.join(5)
            s.close()

    def test_partial_second_request_on_a_kept_alive_connection_gets_408(self):
        # The header timeout starts again with the first byte of the next request.
        with connect(self.port) as s:
            reader = Reader(s)
            send(s, request("GET", "/hello"))
            self.assertEqual(reader.read_response().status, 200)
            time.sleep(0.3)  # under the idle timeout
            send(s, b"GET /hello HTTP/1.1\r\nHost: t\r\n")
            start = time.monotonic()
            r = reader.read_response(timeout=10)
            self.assertEqual(r.status, 408, r)
            self.assertTrue(r.closes)
            self.assertWithin(time.monotonic() - start, self.HEADER, "partial second request")
            self.assertTrue(reader.read_until_close(timeout=10)[1])

    def test_silent_connection_is_closed_at_the_header_timeout(self):
        with connect(self.port) as s:
            data, elapsed = wait_closed(s, timeout=10)
            self.assertEqual(data, b"", "nothing was asked: nothing is answered")
            self.assertWithin(elapsed, self.HEADER, "silent connection")

    def test_stalled_body_gets_408(self):
        with connect(self.port) as s:
            send(s, request("POST", "/echo", [("Content-Length", 100)], b"only ten.."))
            start = time.monotonic()
            reader = Reader(s)
            r = reader.read_response(timeout=10)
            elapsed = time.monotonic() - start
            self.assertEqual(r.status, 408, r)
            self.assertTrue(r.closes)
            extra, closed = reader.read_until_close(timeout=10)
            self.assertTrue(closed)
            self.assertWithin(elapsed, self.BODY, "stalled body")

    def test_stalled_chunked_body_gets_408(self):
        with connect(self.port) as s:
            send(s, b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
            start = time.monotonic()
            r = Reader(s).read_response(timeout=10)
            self.assertEqual(r.status, 408, r)
            self.assertWithin(time.monotonic() - start, self.BODY, "stalled chunked body")

    def test_slow_but_steady_body_is_not_cut(self):
        # Each gap is under the body timeout; the whole body takes longer than it.
        with connect(self.port) as s:
            send(s, request("POST", "/echo", [("Content-Length", 8)]))
            for piece in (b"ab", b"cd", b"ef", b"gh"):
                time.sleep(0.2)
                send(s, piece)
            r = Reader(s).read_response(timeout=10)
            self.assertEqual((r.status, r.body), (200, b"abcdefgh"))

    def test_idle_keep_alive_connection_is_closed_after_the_idle_timeout(self):
        with connect(self.port) as s:
            send(s, request("GET", "/hello"))
            r = Reader(s).read_response()
            self.assertEqual((r.status, r.closes), (200, False))
            data, elapsed = wait_closed(s, timeout=10)
            self.assertEqual(data, b"", "an idle close sends nothing")
            self.assertWithin(elapsed, self.IDLE, "idle keep-alive")

    def test_idle_timer_restarts_with_each_request(self):
        with connect(self.port) as s:
            reader = Reader(s)
            start = time.monotonic()
            for _ in range(4):  # 4 x 0.4s > the idle timeout, but each gap is under it
                send(s, request("GET", "/hello"))
                self.assertEqual(reader.read_response().status, 200)
                time.sleep(0.4)
            send(s, request("GET", "/rooms/last"))
            self.assertEqual(reader.read_response().body, b"last")
            self.assertGreater(time.monotonic() - start, self.IDLE)


class TimeoutCallbackTest(unittest.TestCase):
    """A timeout whose handling schedules a timeout of a duration not used before on that loop.

    The 408 of a header timeout is followed by a lingering close whose timer is
    min(2 s, header timeout); with a header timeout over 2 s that duration is new to the loop's
    deadline lists, and it is first scheduled from inside the deadline callback. A fresh server is
    needed each time, since a loop only ever meets a new duration once.
    """

    FLAGS = ("--threads", 1, "--header-timeout-ms", 2500, "--idle-timeout-ms", 5000)

    def setUp(self):
        self.server = harness.start_test_server(*self.FLAGS)
        self.addCleanup(self.server.close)

    def test_header_timeout_on_a_kept_alive_connection_then_keep_serving(self):
        with connect(self.server.port) as s:
            reader = Reader(s)
            send(s, request("GET", "/hello"))
            self.assertEqual(reader.read_response().status, 200)
            send(s, b"GET /hello HTTP/1.1\r\nHost: t\r\n")
            start = time.monotonic()
            r = reader.read_response(timeout=15)
            self.assertEqual(r.status, 408, r)
            self.assertGreaterEqual(time.monotonic() - start, 0.8 * 2.5)
            self.assertTrue(reader.read_until_close(timeout=10)[1])
        time.sleep(0.3)
        self.assertIsNone(self.server.proc.poll(), "the server died after a 408:\n" + self.server.stderr())
        for _ in range(3):
            self.assertEqual(exchange(self.server.port, request("GET", "/hello")).body, b"hello")
        self.assertEqual(self.server.stop(), 0, self.server.stderr())

    def test_body_timeout_then_keep_serving(self):
        server = harness.start_test_server("--threads", 1, "--body-timeout-ms", 400, "--idle-timeout-ms", 5000)
        self.addCleanup(server.close)
        with connect(server.port) as s:
            reader = Reader(s)
            send(s, request("GET", "/hello"))
            self.assertEqual(reader.read_response().status, 200)
            send(s, request("POST", "/echo", [("Content-Length", 10)], b"abc"))
            self.assertEqual(reader.read_response(timeout=10).status, 408)
            self.assertTrue(reader.read_until_close(timeout=10)[1])
        time.sleep(0.3)
        self.assertIsNone(server.proc.poll(), "the server died after a 408:\n" + server.stderr())
        self.assertEqual(exchange(server.port, request("GET", "/hello")).body, b"hello")
        self.assertEqual(server.stop(), 0, server.stderr())


class MaxRequestsTest(RawTestCase):
    FLAGS = ("--threads", 1, "--max-requests", 3)

    def test_third_response_closes(self):
        with connect(self.port) as s:
            reader = Reader(s)
            for i in range(1, 4):
                send(s, request("GET", "/rooms/%d" % i))
                r = reader.read_response()
                self.assertEqual((r.status, r.body), (200, str(i).encode()))
                self.assertEqual(r.closes, i == 3, (i, r))
            extra, closed = reader.read_until_close()
            self.assertTrue(closed, "the connection stayed open after max requests")
            self.assertEqual(extra, b"")

    def test_pipelined_fourth_request_is_not_answered(self):
        with connect(self.port) as s:
            send(s, b"".join(request("GET", "/rooms/%d" % i) for i in range(1, 6)))
            reader = Reader(s)
            bodies = [reader.read_response().body for _ in range(3)]
            self.assertEqual(bodies, [b"1", b"2", b"3"])
            extra, closed = reader.read_until_close()
            self.assertTrue(closed)
            self.assertEqual(extra, b"")


class GracefulStopTest(unittest.TestCase):
    def start(self, *flags):
        server = harness.start_test_server("--threads", 2, *flags)
        self.addCleanup(server.close)
        return server

    def test_in_flight_request_completes_and_new_connections_are_refused(self):
        server = self.start()
        port = server.port
        idle = connect(port)  # a kept-alive connection with nothing in flight
        send(idle, request("GET", "/hello"))
        idle_reader = Reader(idle)
        self.assertEqual(idle_reader.read_response().status, 200)
        busy = connect(port)
        send(busy, request("GET", "/slow?ms=2500"))
        time.sleep(0.3)
        stop_began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            # The idle connection is closed at once.
            extra, closed = idle_reader.read_until_close(timeout=5)
            self.assertTrue(closed, "an idle connection was kept open during the stop")
            self.assertEqual(extra, b"")
            # New connections are refused once the stop began (the slow request is still running).
            time.sleep(0.3)
            self.assertLess(time.monotonic() - stop_began, 1.8, "too slow to test refusal while draining")
            with self.assertRaises(ConnectionRefusedError):
                c = connect(port, timeout=2)
                c.close()
            # The in-flight response arrives whole and closes the connection.
            reader = Reader(busy)
            r = reader.read_response(timeout=10)
            self.assertEqual((r.status, r.body), (200, b"slow done"))
            self.assertTrue(r.closes, r)
            extra, closed = reader.read_until_close(timeout=5)
            self.assertTrue(closed)
            rc = server.wait(timeout=10)
            self.assertEqual(rc, 0, "exit code; stderr:\n" + server.stderr())
            self.assertIn("stopped", server.stdout_lines_after_exit())
        finally:
            idle.close()
            busy.close()

    def test_shutdown_deadline_shorter_than_the_request(self):
        server = self.start("--shutdown-timeout-ms", 300)
        busy = connect(server.port)
        send(busy, request("GET", "/slow?ms=5000"))
        time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        stop_began = time.monotonic()
        try:
            data, closed = Reader(busy).read_until_close(timeout=10)
            closed_after = time.monotonic() - stop_began
            self.assertTrue(closed, "the connection outlived the shutdown deadline")
            self.assertEqual(data, b"", "no response is expected from a request cut at the deadline")
            self.assertGreaterEqual(closed_after, 0.8 * 0.3, "closed before the deadline")
            self.assertLess(closed_after, 3.0, "closed long after the deadline")
            rc = server.wait(timeout=10)
            exited_after = time.monotonic() - stop_began
            self.assertEqual(rc, 0, "exit code; stderr:\n" + server.stderr())
            self.assertLess(exited_after, 4.0, "the process did not exit promptly")
            self.assertIn("stopped", server.stdout_lines_after_exit())
        finally:
            busy.close()

    def test_streamed_response_in_flight_completes(self):
        server = self.start()
        with connect(server.port) as s:
            send(s, request("GET", "/stream?n=60"))  # ~60 x 5 ms
            reader = Reader(s)
            time.sleep(0.1)
            server.send_signal(signal.SIGTERM)
            r = reader.read_response(timeout=10)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"".join(b"chunk %d\n" % i for i in range(60)))
            self.assertTrue(reader.read_until_close(timeout=5)[1], "the connection stayed open after the stop")
        self.assertEqual(server.wait(timeout=10), 0, server.stderr())

    def test_pipelined_request_behind_the_in_flight_one_is_not_started(self):
        server = self.start()
        with connect(server.port) as s:
            send(s, request("GET", "/slow?ms=600") + request("GET", "/rooms/late"))
            reader = Reader(s)
            time.sleep(0.2)
            server.send_signal(signal.SIGTERM)
            r = reader.read_response(timeout=10)
            self.assertEqual((r.status, r.body), (200, b"slow done"))
            self.assertTrue(r.closes)
            extra, closed = reader.read_until_close(timeout=5)
            self.assertTrue(closed)
            self.assertEqual(extra, b"")
        self.assertEqual(server.wait(timeout=10), 0, server.stderr())

    def test_sigint_stops_an_idle_server(self):
        server = self.start()
        self.assertEqual(exchange(server.port, request("GET", "/hello")).status, 200)
        server.send_signal(signal.SIGINT)
        self.assertEqual(server.wait(timeout=10), 0, server.stderr())
        self.assertIn("stopped", server.stdout_lines_after_exit())


@unittest.skipUnless(harness.ipv6_loopback_available(), "no IPv6 loopback")
class Ipv6Test(RawTestCase):
    FLAGS = ("--threads", 2, "--ipv6", 1)

    def test_ipv6_and_ipv4_on_the_same_port(self):
        for host in ("::1", "127.0.0.1", "::1"):
            with connect(self.port, host=host) as s:
                send(s, request("GET", "/rooms/v", host="[::1]") + request("GET", "/hello"))
                reader = Reader(s)
                self.assertEqual(reader.read_response().body, b"v", host)
                self.assertEqual(reader.read_response().body, b"hello", host)

    def test_bad_request_over_ipv6(self):
        with connect(self.port, host="::1") as s:
            send(s, b"GET / HTTP/1.1\r\n\r\n")
            reader = Reader(s)
            r = reader.read_response()
            self.assertEqual(r.status, 400)
            self.assertTrue(reader.read_until_close()[1])


class SingleAcceptorTest(RawTestCase):
    FLAGS = ("--threads", 2, "--single-acceptor", 1)

    def test_fifty_parallel_connections(self):
        n = 50
        results = [None] * n
        gate = threading.Barrier(n, timeout=20)

        def client(i):
            try:
                with connect(self.port, timeout=20) as s:
                    gate.wait()
                    reader = Reader(s)
                    got = []
                    for j in range(3):
                        send(s, request("GET", "/rooms/c%d-%d" % (i, j)))
                        r = reader.read_response(timeout=20)
                        got.append((r.status, r.body))
                    results[i] = got
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i, got in enumerate(results):
            self.assertEqual(got, [(200, b"c%d-%d" % (i, j)) for j in range(3)], "client %d" % i)


if __name__ == "__main__":
    harness.run_tests()
