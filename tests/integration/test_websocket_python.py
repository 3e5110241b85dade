"""WebSocket server against a client we did not write: python-websockets (Debian's python3-websockets
10.x, legacy asyncio client). Echo across the length encodings up to 16 MiB, fragmented sends, ping and
pong, close codes both ways, subprotocols, origins, the size limit and invalid UTF-8; against
tests/support/test_server."""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError as e:  # a missing peer must fail the test, not skip it: scripts/setup.sh test installs it
    raise SystemExit("python3-websockets is required (scripts/setup.sh test): %s" % e)

MiB = 1024 * 1024
LIMIT = 16 * MiB              # the server's default max_message_bytes
SIZES = (0, 125, 126, 65535, 65536, LIMIT)
OP_TEXT = 0x1
TEST_TIMEOUT = 120.0


def text_of(n):
    """A str whose UTF-8 encoding is exactly n bytes, with 1- to 4-byte characters."""
    unit = "aé€😀"  # 1 + 2 + 3 + 4 bytes
    s = unit * (n // 10)
    return s + "z" * (n - len(s.encode("utf-8")))


def connect(port, path, **kwargs):
    kwargs.setdefault("ping_interval", None)  # no keepalive pings of the client's own during the tests
    kwargs.setdefault("open_timeout", harness.IO_TIMEOUT)
    kwargs.setdefault("close_timeout", harness.IO_TIMEOUT)
    return websockets.connect("ws://127.0.0.1:%d%s" % (port, path), **kwargs)


class PythonWebSocketsTest(harness.ServerTestCase):
    FLAGS = ("--threads", 2)

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT))

    def tearDown(self):
        self.assertServerAlive()

    async def closed_by_server(self, ws):
        """Waits for the server to end the connection; returns the ConnectionClosed the client saw."""
        try:
            while True:
                message = await asyncio.wait_for(ws.recv(), harness.IO_TIMEOUT)
                self.fail("unexpected message before the close: %r" % (message[:80],))
        except websockets.exceptions.ConnectionClosed as e:
            return e

    # ---- echo ----

    def test_echo_text_and_binary_of_every_length_encoding(self):
        async def main():
            async with connect(self.port, "/ws/echo", max_size=2 * LIMIT) as ws:
                for n in SIZES:
                    with self.subTest(kind="text", n=n):
                        text = text_of(n)
                        self.assertEqual(len(text.encode()), n)
                        await ws.send(text)
                        got = await asyncio.wait_for(ws.recv(), 60)
                        self.assertIsInstance(got, str, "text must come back as text")
                        self.assertEqual(len(got.encode()), n)
                        self.assertTrue(got == text, "text of %d bytes changed in the echo" % n)
                    with self.subTest(kind="binary", n=n):
                        data = os.urandom(n)
                        await ws.send(data)
                        got = await asyncio.wait_for(ws.recv(), 60)
                        self.assertIsInstance(got, bytes, "binary must come back as binary")
                        self.assertEqual(len(got), n)
                        self.assertTrue(got == data, "binary of %d bytes changed in the echo" % n)
                await ws.close()
                self.assertEqual(ws.close_code, 1000)
        self.run_async(main())

    def test_callback_route(self):
        async def main():
            async with connect(self.port, "/ws/callbacks") as ws:
                await ws.send("héllo")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), "text:héllo")
                await ws.send(b"\x00\xffbin")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), b"\x00\xffbin")
        self.run_async(main())

    def test_fragmented_sends_are_echoed_as_one_message(self):
        async def fragments():
            for part in (b"\x00\x01", b"", b"\x02" * 70000, b"\xff"):
                await asyncio.sleep(0.01)
                yield part

        async def main():
            async with connect(self.port, "/ws/echo") as ws:
                await ws.send(["Hel", "lo, ", "wörld", " ", "😀"])  # a list: one message, five frames
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), "Hello, wörld 😀")
                await ws.send([b"ab", b"cd"])
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), b"abcd")
                await ws.send(fragments())  # an async iterator: frames leave as the parts come
                got = await asyncio.wait_for(ws.recv(), 10)
                self.assertEqual(got, b"\x00\x01" + b"\x02" * 70000 + b"\xff")
        self.run_async(main())

    # ---- control frames ----

    def test_ping_is_answered_with_the_same_payload(self):
        async def main():
            async with connect(self.port, "/ws/echo") as ws:
                for payload in (b"payload-123", os.urandom(125), b""):
                    # The waiter completes only on a Pong carrying exactly this payload.
                    waiter = await ws.ping(payload)
                    await asyncio.wait_for(waiter, 5)
                await ws.send("still open")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "still open")
        self.run_async(main())

    def test_client_close_codes_are_echoed_and_the_server_closes_tcp(self):
        async def main():
            for code, reason in ((1000, "normal bye"), (4001, "custom reason ✓")):
                with self.subTest(code=code):
                    ws = await connect(self.port, "/ws/echo")
                    start = time.monotonic()
                    await ws.close(code, reason)
                    elapsed = time.monotonic() - start
                    self.assertEqual(ws.close_code, code, "the server's Close must echo the code")
                    # close() returns once TCP is closed: by the server at once, or by the client after
                    # close_timeout (10 s) when the server keeps it open.
                    self.assertLess(elapsed, 3.0, "the server did not close TCP after the closing handshake")
        self.run_async(main())

    def test_server_initiated_close(self):
        async def main():
            async with connect(self.port, "/ws/push-close") as ws:
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), "pushed by the server")
                e = await self.closed_by_server(ws)
                self.assertIsNotNone(e.rcvd, "no Close frame from the server: %s" % e)
                self.assertEqual((e.rcvd.code, e.rcvd.reason), (4000, "bye from the server"))
                self.assertEqual(ws.close_code, 4000)
                self.assertEqual(ws.close_reason, "bye from the server")
                self.assertTrue(e.rcvd_then_sent, "the client answers the server's Close")
        self.run_async(main())

    # ---- handshake options ----

    def test_subprotocol_negotiation(self):
        async def main():
            cases = ((["chat.v1", "chat.v2"], "chat.v2"),  # the server's preference wins
                     (["chat.v2", "chat.v1"], "chat.v2"),
                     (["chat.v1"], "chat.v1"),
                     (["other", "chat.v1"], "chat.v1"))
            for offered, chosen in cases:
                with self.subTest(offered=offered):
                    async with connect(self.port, "/ws/chat", subprotocols=offered,
                                       origin="http://allowed.test") as ws:
                        self.assertEqual(ws.subprotocol, chosen)
                        await ws.send("over " + chosen)
                        self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "over " + chosen)
            # None offered that the server supports: no subprotocol, still connected.
            async with connect(self.port, "/ws/chat", origin="http://allowed.test") as ws:
                self.assertIsNone(ws.subprotocol)
        self.run_async(main())

    def test_foreign_origin_is_refused_with_403(self):
        async def main():
            for origin in ("http://evil.test", "http://allowed.test.evil.test", None):
                with self.subTest(origin=origin):
                    with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                        async with connect(self.port, "/ws/chat", origin=origin, subprotocols=["chat.v2"]):
                            pass
                    self.assertEqual(cm.exception.status_code, 403)
        self.run_async(main())

    def test_plain_route_refuses_the_upgrade(self):
        async def main():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                async with connect(self.port, "/hello"):
                    pass
            self.assertEqual(cm.exception.status_code, 200)  # a normal answer, no 101
        self.run_async(main())

    # ---- limits and invalid input ----

    def test_message_over_16_mib_is_closed_with_1009(self):
        async def main():
            async with connect(self.port, "/ws/echo", max_size=2 * LIMIT) as ws:
                try:
                    await ws.send(os.urandom(LIMIT + 1))
                except websockets.exceptions.ConnectionClosed:
                    pass  # the server may close while the message is still being written
                e = await self.closed_by_server(ws)
                self.assertIsNotNone(e.rcvd, "the Close frame was lost: %s" % e)
                self.assertEqual(e.rcvd.code, 1009, e)
            # The limit is per message: exactly 16 MiB still passes on a new connection.
            async with connect(self.port, "/ws/echo", max_size=2 * LIMIT) as ws:
                await ws.send(b"\x01" * LIMIT)
                self.assertEqual(len(await asyncio.wait_for(ws.recv(), 60)), LIMIT)
        self.run_async(main())

    def test_fragmented_message_over_16_mib_is_closed_with_1009(self):
        async def main():
            async with connect(self.port, "/ws/echo") as ws:
                try:
                    await ws.send([b"\x00" * (8 * MiB), b"\x00" * (8 * MiB), b"\x00"])
                except websockets.exceptions.ConnectionClosed:
                    pass
                e = await self.closed_by_server(ws)
                self.assertIsNotNone(e.rcvd, "the Close frame was lost: %s" % e)
                self.assertEqual(e.rcvd.code, 1009, e)
        self.run_async(main())

    def test_invalid_utf8_text_is_closed_with_1007(self):
        async def main():
            for payload in (b"\xff", b"caf\xc3", b"\xed\xa0\x80", b"ok \xf8\x88\x80\x80\x80"):
                with self.subTest(payload=payload):
                    async with connect(self.port, "/ws/echo") as ws:
                        # Below send(): a text frame with bytes that are not UTF-8, as a broken client would.
                        await ws.write_frame(True, OP_TEXT, payload)
                        e = await self.closed_by_server(ws)
                        self.assertIsNotNone(e.rcvd, "no Close frame: %s" % e)
                        self.assertEqual(e.rcvd.code, 1007, e)
        self.run_async(main())


if __name__ == "__main__":
    harness.run_tests()
