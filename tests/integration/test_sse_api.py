"""The EventSource API over real sockets, against routes of tests/support/sse_routes.cpp: append_header's
limit, wait_for_fail(timeout), keep_alive(), the registry (get / find / count, sends from worker threads),
clients that leave or stop reading, duplicate ids, the blocking style, and the ping policy.
The client is test_sse.SseStream (raw sockets, a WHATWG parser of its own)."""

import os
import signal
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IO_TIMEOUT, ServerTestCase, curl, run_tests, start_test_server  # noqa: E402
from test_sse import CurlStream, SseStream, poll_until  # noqa: E402


class SseApiTest(ServerTestCase):
    FLAGS = ("--threads", "2")

    def get(self, path):
        r = curl(self.url(path))
        self.assertEqual(r.rc, 0, r.stderr)
        return r

    def text(self, path):
        r = self.get(path)
        self.assertEqual(r.status, 200, r.body)
        return r.body.decode()

    def finished(self, tag):
        return int(self.text("/sse/finished?tag=" + tag))

    def registered(self, s, name):
        """The first event of /sse/open (pings skipped)."""
        e = s.next_event()
        while e is not None and e.type == "message" and e.data == "ping-message":
            e = s.next_event()
        self.assertIsNotNone(e, "the stream ended before its first event")
        self.assertEqual((e.type, e.data), ("registered", "registered as " + name))

    def assertNoEvent(self, s, seconds=0.3):
        self.assertTrue(s.read_for(seconds), "the stream ended")
        self.assertEqual(s.parser.events[s.consumed:], [])

    # ---- wait_for_fail(timeout), keep_alive() ----

    def test_wait_for_fail_with_a_timeout_ends_an_idle_stream(self):
        with SseStream(self.port, "/sse/idle?ms=300&tag=idle-300") as s:
            e = s.next_event()
            self.assertEqual((e.type, e.data), ("message", "open"))
            eof = s.wait_eof(timeout=IO_TIMEOUT)
            self.assertIsNotNone(eof, "the stream stayed open")
            idle = eof - e.at
            self.assertGreaterEqual(idle, 0.25, "ended before 300 ms without a send")
            self.assertLess(idle, 3.0)
            self.assertEqual(s.parser.events[1:], [])
        self.assertEqual(poll_until(lambda: self.finished("idle-300"), 1), 1)

    def test_sends_postpone_the_idle_end(self):
        with SseStream(self.port, "/sse/idle?ms=1000&id=idle-kept") as s:
            e = s.next_event()
            self.assertEqual(e.data, "open")
            start = e.at
            for i in range(4):  # a send every 250 ms: never 1 s without one
                time.sleep(0.25)
                self.assertEqual(self.text("/sse/registry/send?id=idle-kept&text=keep+%d" % i), "sent")
                got = s.next_event()
                self.assertEqual((got.type, got.data), ("direct", "keep %d" % i))
            last = got.at
            eof = s.wait_eof()
            self.assertIsNotNone(eof)
            self.assertGreaterEqual(eof - start, 1.0 + 0.9, "the sends did not keep the stream open")
            self.assertGreaterEqual(eof - last, 0.9, "ended before 1 s after the last send")
            self.assertLess(eof - last, 4.0)

    def test_keep_alive_returns_when_the_client_disconnects(self):
        s = SseStream(self.port, "/sse/open?tag=keep-alive-1")
        self.registered(s, "")
        time.sleep(0.3)
        self.assertEqual(self.finished("keep-alive-1"), 0, "keep_alive() returned with the client still there")
        s.close()
        self.assertEqual(poll_until(lambda: self.finished("keep-alive-1"), 1), 1)

    def test_the_head_goes_out_when_waiting_starts(self):
        # A route that opens a stream and waits without sending (the seed's identified connection,
        # written to later through the registry): the client must see the response head at once,
        # whichever wait it is, not only with the first event.
        for mode in ("wait-for-fail-timeout", "wait-for-fail", "keep-alive"):
            with self.subTest(mode=mode):
                name = "silent-" + mode
                try:
                    s = SseStream(self.port, "/sse/silent?mode=%s&id=%s&ms=5000" % (mode, name), head_timeout=3)
                except (TimeoutError, OSError) as e:
                    self.fail("no response head within 3 s while the route waits (%s: %s)" % (mode, e))
                with s:
                    self.assertEqual(s.status, 200)
                    self.assertEqual(s.header("Content-Type"), "text/event-stream")
                    self.assertEqual(self.text("/sse/registry/send?id=%s&text=later" % name), "sent")
                    e = s.next_event()
                    self.assertEqual((e.type, e.data), ("direct", "later"))

    # ---- the registry ----

    def count(self, prefix=""):
        return int(self.text("/sse/registry/count?prefix=" + prefix))

    def has(self, id_):
        return self.text("/sse/registry/has?id=" + id_) == "1"

    def test_registry_get_find_count(self):
        base = self.count()
        streams = {}
        try:
            for name in ("my-connection-1", "my-connection-2", "other"):
                streams[name] = SseStream(self.port, "/sse/open?id=" + name)
                self.registered(streams[name], name)
            self.assertEqual(self.count(), base + 3)
            self.assertEqual(self.count("my-connection-"), 2)
            # get(id), sent from a worker thread (a blocking route): that stream only.
            self.assertEqual(self.text("/sse/registry/send?id=other&text=just+you"), "sent")
            e = streams["other"].next_event()
            self.assertEqual((e.type, e.data), ("direct", "just you"))
            # find(starts_with): exactly the two my-connection- streams.
            self.assertEqual(self.text("/sse/registry/broadcast?prefix=my-connection-&text=to+all"), "2")
            for name in ("my-connection-1", "my-connection-2"):
                e = streams[name].next_event()
                self.assertEqual((e.type, e.data), ("broadcast", "to all"))
            self.assertNoEvent(streams["other"])
            self.assertNoEvent(streams["my-connection-1"], 0.05)
            # An id nobody holds.
            self.assertEqual(self.get("/sse/registry/send?id=my-connection-3&text=x").status, 404)
            # A closed stream leaves the registry.
            streams.pop("my-connection-1").close()
            self.assertEqual(poll_until(lambda: self.count("my-connection-"), 1), 1)
            self.assertEqual(self.count(), base + 2)
            self.assertEqual(self.get("/sse/registry/send?id=my-connection-1&text=x").status, 404)
            self.assertEqual(self.text("/sse/registry/broadcast?prefix=my-connection-&text=again"), "1")
            e = streams["my-connection-2"].next_event()
            self.assertEqual((e.type, e.data), ("broadcast", "again"))
        finally:
            for s in streams.values():
                s.close()
        self.assertEqual(poll_until(self.count, base), base)

    def test_a_killed_client_leaves_the_registry_within_the_ping_interval(self):
        c = CurlStream(self.url("/sse/open?id=killed-curl&ping_ms=100&tag=killed-curl"))
        try:
            c.read_until(b"registered as killed-curl")
            self.assertTrue(self.has("killed-curl"))
        finally:
            c.kill()  # SIGKILL: the kernel closes its socket
        killed = time.monotonic()
        self.assertFalse(poll_until(lambda: self.has("killed-curl"), False, interval=0.01))
        self.assertLess(time.monotonic() - killed, 1.0, "the dead client stayed registered")
        self.assertEqual(poll_until(lambda: self.finished("killed-curl"), 1), 1)

    def test_a_client_that_stops_reading_is_dropped_and_the_others_get_everything(self):
        n, size, backlog = 160, 65536, 256 * 1024
        slow = SseStream(self.port, "/sse/open?id=flood-slow&max_backlog=%d" % backlog, rcvbuf=4096)
        fast = SseStream(self.port, "/sse/open?id=flood-fast&max_backlog=%d" % backlog)
        try:
            self.registered(fast, "flood-fast")
            self.assertTrue(poll_until(lambda: self.has("flood-slow"), True))
            result = {}

            def flood():  # the fast client reads while the server publishes
                result["answer"] = self.text("/sse/flood?prefix=flood-&n=%d&size=%d&pace=flood-fast" % (n, size))

            t = threading.Thread(target=flood)
            t.start()
            got = []
            deadline = time.monotonic() + 60
            while len(got) < n and time.monotonic() < deadline:
                e = fast.next_event(timeout=max(0.1, deadline - time.monotonic()))
                self.assertIsNotNone(e, "the reading client was dropped")
                got.append(e)
            t.join(60)
            self.assertFalse(t.is_alive())
            self.assertEqual(len(got), n)
            for i, e in enumerate(got):
                self.assertEqual((e.type, e.last_event_id, len(e.data)), ("flood", str(i), size))
                self.assertEqual(e.data, chr(ord("a") + i % 26) * size)
            targets, paced, posted = (int(w) for w in result["answer"].split()[1::2])
            self.assertEqual((targets, paced), (2, n), result["answer"])
            self.assertLess(posted, n, "every event was queued for the client that does not read: " + result["answer"])
            self.assertFalse(self.has("flood-slow"))
            self.assertTrue(self.has("flood-fast"))
            # The dropped client's connection is closed: what the kernel held, then EOF (or a reset).
            self.assertIsNotNone(slow.wait_eof(timeout=30), "the dropped client's connection stays open")
            self.assertLess(len(slow.raw), n * size)
        finally:
            slow.close()
            fast.close()

    def test_a_duplicate_id_replaces_the_older_stream(self):
        old = SseStream(self.port, "/sse/open?id=dup&tag=dup-old")
        new = None
        try:
            self.registered(old, "dup")
            new = SseStream(self.port, "/sse/open?id=dup&tag=dup-new")
            self.registered(new, "dup")
            self.assertIsNotNone(old.wait_eof(timeout=5), "the replaced stream stays open")
            self.assertEqual(poll_until(lambda: self.finished("dup-old"), 1), 1)
            self.assertEqual(self.finished("dup-new"), 0)
            self.assertEqual(self.count("dup"), 1)
            self.assertEqual(self.text("/sse/registry/send?id=dup&text=to+the+new+one"), "sent")
            e = new.next_event()
            self.assertEqual((e.type, e.data), ("direct", "to the new one"))
            # reject_new: refused with 409 while the id is live; the live one stays.
            r = self.get("/sse/open?id=dup&policy=reject")
            self.assertEqual(r.status, 409)
            self.assertNotEqual(r.header("Content-Type"), "text/event-stream")
            self.assertTrue(new.read_for(0.2), "the live stream was dropped by a refused duplicate")
            self.assertEqual(self.text("/sse/registry/send?id=dup&text=still+here"), "sent")
            self.assertEqual(new.next_event().data, "still here")
        finally:
            old.close()
            if new:
                new.close()

    # ---- cancel() ----

    def test_cancel_drops_events_not_yet_written(self):
        # The route posts two events and cancels them in the same loop turn, before anything was
        # written (the response head included), then sends "kept".
        with SseStream(self.port, "/sse/cancel-unwritten") as s:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.header("Content-Type"), "text/event-stream")
            events = s.events_until_close()
            self.assertEqual([e.data for e in events], ["kept"], s.raw)

    def test_cancel_keeps_a_partly_written_event_whole(self):
        # Three 8 MiB events are queued for a client that does not read yet; the socket takes part of
        # the first. cancel() may drop what was not started, but the event being written must finish,
        # or the next event is glued onto a truncated line.
        size = 8 << 20
        s = SseStream(self.port, "/sse/cancel-partial?size=%d" % size, rcvbuf=4096)
        try:
            time.sleep(1.0)  # the route cancels after 300 ms
            s._read_head(IO_TIMEOUT)
            self.assertEqual(s.status, 200)
            events = s.events_until_close(timeout=60)
        finally:
            s.close()
        self.assertEqual((events[0].type, events[0].data), ("message", "start"))
        self.assertEqual((events[-1].type, events[-1].data), ("after-cancel", "after"))
        big = events[1:-1]
        summary = [(e.type, e.last_event_id, len(e.data), e.data[-30:]) for e in big]
        self.assertLess(len(big), 3, "cancel() dropped nothing")
        for i, e in enumerate(big):
            self.assertEqual((e.type, e.last_event_id, len(e.data)), ("big", str(i), size), summary)
            self.assertEqual(e.data, chr(ord("a") + i) * size, summary)

    # ---- the blocking style ----

    def test_event_source_sync_on_a_blocking_route(self):
        with SseStream(self.port, "/sse/sync?ms=200") as s:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.header("Content-Type"), "text/event-stream")
            events = [s.next_event() for _ in range(3)]
            self.assertEqual([e.tuple() for e in events], [
                ("message", "sync hello", ""),
                ("sync", "second", "s2"),
                ("sent", "both", "s2"),
            ])
            eof = s.wait_eof()
            self.assertIsNotNone(eof)
            self.assertGreaterEqual(eof - events[2].at, 0.15)
            self.assertLess(eof - events[2].at, 3.0)
            self.assertEqual(s.raw, b"data: sync hello\n\nevent: sync\nid: s2\ndata: second\n\n"
                                    b"event: sent\ndata: both\n\n")

    # ---- a handler that fails or returns without close() ends its stream ----

    def assertEndsAfter(self, path, events):
        with SseStream(self.port, path) as s:
            self.assertEqual(s.status, 200)
            for data in events:
                e = s.next_event()
                self.assertIsNotNone(e, "the stream ended before " + data)
                self.assertEqual((e.type, e.data), ("message", data))
            self.assertIsNotNone(s.wait_eof(timeout=3.0), path + ": the stream stayed open")
            self.assertEqual(s.parser.events[len(events):], [])

    def test_a_blocking_handler_that_throws_ends_its_stream(self):
        self.assertEndsAfter("/sse/fail-sync?send=1", ["before"])
        self.assertEndsAfter("/sse/fail-sync", [])

    def test_a_coroutine_handler_that_throws_ends_its_stream(self):
        self.assertEndsAfter("/sse/fail?send=1", ["before"])
        self.assertEndsAfter("/sse/fail", [])

    def test_a_handler_that_returns_without_close_ends_its_stream(self):
        self.assertEndsAfter("/sse/fail?send=1&mode=return", ["before"])

    # ---- the ping policy ----

    def gaps(self, times):
        return [b - a for a, b in zip(times, times[1:])]

    def test_ping_policy_comment_at_the_interval(self):
        with SseStream(self.port, "/sse/open?ping_ms=100") as s:
            self.assertTrue(s.read_for(1.05))
            # ":%ping%" (EventSourcePing's doc) or ": %ping%" (encode_comment): the same comment to a client.
            pings = [at for text, at in s.parser.comments if text.removeprefix(" ") == "%ping%"]
            self.assertEqual(len(pings), len(s.parser.comments), s.parser.comments)
            self.assertGreaterEqual(len(pings), 5, "too few pings in 1 s at 100 ms")
            self.assertLessEqual(len(pings), 13, "pings come faster than every 100 ms")
            gaps = sorted(self.gaps(pings))
            self.assertGreaterEqual(gaps[len(gaps) // 2], 0.07)
            self.assertLessEqual(gaps[len(gaps) // 2], 0.3)
            # The first ping comes an interval after the start (append_header stays possible until then).
            self.assertGreaterEqual(pings[0] - s.opened_at, 0.07)
            # A ping is a comment line, not an event: only "registered" was dispatched.
            self.assertEqual([e.type for e in s.parser.events], ["registered"])

    def test_ping_policy_with_data_sends_data_events(self):
        with SseStream(self.port, "/sse/open?ping_ms=100&ping_data=ping-message") as s:
            self.assertTrue(s.read_for(1.05))
            pings = [e for e in s.parser.events if e.type == "message"]
            self.assertTrue(all(e.data == "ping-message" for e in pings), pings)
            self.assertGreaterEqual(len(pings), 5)
            self.assertLessEqual(len(pings), 13)
            self.assertEqual(s.parser.comments, [])
            self.assertIn(b"data: ping-message\n\n", s.raw)

    def test_ping_policy_started_from_the_handle(self):
        with SseStream(self.port, "/sse/ping-method?ms=100&data=ping-message") as s:
            self.assertTrue(s.read_for(0.65))
            pings = [e for e in s.parser.events if (e.type, e.data) == ("message", "ping-message")]
            self.assertEqual(len(pings), len(s.parser.events))
            self.assertGreaterEqual(len(pings), 4)
            self.assertLessEqual(len(pings), 9)
            gaps = sorted(self.gaps([e.at for e in pings]))
            self.assertGreaterEqual(gaps[len(gaps) // 2], 0.07)
        with SseStream(self.port, "/sse/ping-method?ms=100") as s:
            self.assertTrue(s.read_for(0.45))
            self.assertGreaterEqual(len(s.parser.comments), 3)
            self.assertEqual(set(c.removeprefix(" ") for c, _ in s.parser.comments), {"%ping%"})
            self.assertEqual(s.parser.events, [])

    def test_server_alive(self):
        self.assertServerAlive()
        self.assertEqual(curl(self.url("/hello")).body, b"hello")


class SseGracefulStopTest(unittest.TestCase):
    def test_sigterm_ends_open_streams_and_exits_0_before_the_deadline(self):
        server = start_test_server("--threads", "2", "--shutdown-timeout-ms", "8000")
        streams = []
        try:
            streams.append(SseStream(server.port, "/sse/open?id=stop-1"))
            streams.append(SseStream(server.port, "/sse/open?ping_ms=100"))
            streams.append(SseStream(server.port, "/sse/idle?ms=60000"))
            self.assertEqual(streams[0].next_event().data, "registered as stop-1")
            self.assertEqual(streams[2].next_event().data, "open")
            stop = time.monotonic()
            server.send_signal(signal.SIGTERM)
            for s in streams:
                eof = s.wait_eof(timeout=5)
                self.assertIsNotNone(eof, "a stream stayed open after SIGTERM")
                self.assertLess(eof - stop, 5)
            self.assertEqual(server.wait(timeout=15), 0, server.stderr())
            self.assertLess(time.monotonic() - stop, 5, "the server waited for its shutdown deadline")
            self.assertNotIn("deadline", server.stderr())
        finally:
            for s in streams:
                s.close()
            server.close()


if __name__ == "__main__":
    run_tests()
