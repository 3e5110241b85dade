"""The WebSocket session API, driven by python websockets against routes of the test server
(tests/support/websocket_api_routes.cpp): receive timeout and cancellation, sends from another thread,
the registry, keep-alive pings and dead-peer detection, Sisk's ping policy, idle close, callbacks and
the synchronous (blocking) dialog of the seeds."""
import asyncio
import base64
import os
import signal
import time
import unittest

import websockets

from harness import ServerTestCase, connect, curl, run_tests, send, start_test_server


class WebSocketApiTest(ServerTestCase):
    FLAGS = ("--threads", "2")

    def ws_url(self, path):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 30))

    def test_receive_timeout_returns_empty_and_keeps_the_connection(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/receive-timeout")) as ws:
                self.assertEqual(await ws.recv(), "timeout")
                await ws.send("hi")
                self.assertEqual(await ws.recv(), "after timeout: hi")
        self.run_async(go())

    def test_cancelled_receive_returns_empty(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/cancel")) as ws:
                self.assertEqual(await ws.recv(), "cancelled")
                await ws.send("x")
                self.assertEqual(await ws.recv(), "still open: x")
        self.run_async(go())

    def test_send_from_another_thread_while_receive_is_pending(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/cross-thread")) as ws:
                self.assertEqual(await ws.recv(), "from another thread")
                await ws.send("echo me")
                self.assertEqual(await ws.recv(), "echo me")
        self.run_async(go())

    def registry_count(self):
        return int(curl(self.url("/registry/count")).body)

    def test_registry_lists_live_connections_only(self):
        async def go():
            base = self.registry_count()
            a = await websockets.connect(self.ws_url("/ws/identified?id=room-1"))
            b = await websockets.connect(self.ws_url("/ws/identified?id=room-2"))
            c = await websockets.connect(self.ws_url("/ws/identified?id=other-1"))
            for ws, name in ((a, "room-1"), (b, "room-2"), (c, "other-1")):
                self.assertEqual(await ws.recv(), "registered as " + name)
            self.assertEqual(self.registry_count(), base + 3)
            # find(): the seed's StartsWith broadcast reaches exactly the matching ids.
            reached = curl(self.url("/registry/broadcast?prefix=room-&text=hello+rooms")).body
            self.assertEqual(reached, b"2")
            self.assertEqual(await a.recv(), "hello rooms")
            self.assertEqual(await b.recv(), "hello rooms")
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(c.recv(), 0.3)
            # get(): one connection by id.
            self.assertEqual(curl(self.url("/registry/send?id=other-1&text=just+you")).body, b"sent")
            self.assertEqual(await c.recv(), "just you")
            # A closed connection leaves at once.
            await a.close()
            deadline = time.monotonic() + 5
            while self.registry_count() != base + 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            self.assertEqual(self.registry_count(), base + 2)
            self.assertEqual(curl(self.url("/registry/send?id=room-1&text=x")).status, 404)
            await b.close()
            await c.close()
        self.run_async(go())

    def test_duplicate_id_replaces_the_older_connection(self):
        async def go():
            old = await websockets.connect(self.ws_url("/ws/identified?id=dup"))
            await old.recv()
            new = await websockets.connect(self.ws_url("/ws/identified?id=dup"))
            self.assertEqual(await new.recv(), "registered as dup")
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(old.recv(), 5)
            self.assertEqual(closed.exception.rcvd.code, 1000)
            self.assertIn("replaced", closed.exception.rcvd.reason)
            self.assertEqual(curl(self.url("/registry/send?id=dup&text=to+the+new+one")).body, b"sent")
            self.assertEqual(await new.recv(), "to the new one")
            # The reject-new policy refuses the handshake with 409 while the id is live.
            with self.assertRaises(websockets.InvalidStatusCode) as refused:
                await websockets.connect(self.ws_url("/ws/identified?id=dup&policy=reject"))
            self.assertEqual(refused.exception.status_code, 409)
            await new.close()
        self.run_async(go())

    def test_keepalive_closes_a_peer_that_never_answers_pings(self):
        sock = connect(self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        send(sock, "GET /ws/keepalive HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key)
        start = time.monotonic()
        received = b""
        sock.settimeout(10)
        while True:  # read (and never answer) until the server drops us
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - start
        sock.close()
        self.assertIn(b" 101 ", received.split(b"\r\n")[0])
        self.assertIn(b"\x89\x00", received)  # an empty Ping frame came first
        self.assertGreaterEqual(elapsed, 0.4)  # interval 200 ms + timeout 300 ms
        self.assertLess(elapsed, 5.0)

    def test_keepalive_keeps_an_answering_peer(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/keepalive"), ping_interval=None) as ws:
                await asyncio.sleep(1.2)  # python websockets answers the server's pings by itself
                await ws.send("still here")
                self.assertEqual(await ws.recv(), "still here")
        self.run_async(go())

    def test_ping_policy_sends_data_and_filters_its_echo(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/ping-policy")) as ws:
                self.assertEqual(await ws.recv(), "%ping%")   # sent at once
                self.assertEqual(await ws.recv(), "%ping%")   # and again after the interval
                await ws.send("%ping%")                       # filtered: no "echo:%ping%"
                await ws.send("real")
                while True:
                    m = await ws.recv()
                    if m != "%ping%":
                        break
                self.assertEqual(m, "echo:real")
        self.run_async(go())

    def test_wait_for_close_with_idle_timeout_closes(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/idle")) as ws:
                start = time.monotonic()
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                self.assertEqual(closed.exception.rcvd.code, 1000)
                self.assertGreaterEqual(time.monotonic() - start, 0.25)
        self.run_async(go())

    def test_callbacks_see_pings_and_request_headers(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/events"), extra_headers={"X-Test": "abc"}) as ws:
                await ws.ping(b"payload")
                self.assertEqual(await ws.recv(), "ping:payload")
                await ws.send("t")
                self.assertEqual(await ws.recv(), "headers:abc:t")
        self.run_async(go())

    def test_messages_kept_by_a_callback_own_their_bytes(self):
        # Small messages reach on_message still in the read buffer; the ones it keeps must not.
        async def go():
            async with websockets.connect(self.ws_url("/ws/keep")) as ws:
                sent = []
                for i in range(40):
                    m = f"text {i} " + "x" * (i * 7) if i % 3 else bytes([i]) * (i * 31 + 1)
                    sent.append(m)
                    await ws.send(m)
                await ws.send("dump")
                for m in sent:
                    self.assertEqual(await ws.recv(), m)
        self.run_async(go())

    def test_a_throwing_callback_closes_its_connection_with_1011(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/throwing-callback")) as other:
                async with websockets.connect(self.ws_url("/ws/throwing-callback")) as ws:
                    await ws.send("ok")
                    self.assertEqual(await ws.recv(), "ok")
                    await ws.send("throw")
                    with self.assertRaises(websockets.ConnectionClosed) as closed:
                        await ws.recv()
                    self.assertEqual(closed.exception.rcvd.code, 1011)
                # The server and its other connections go on.
                await other.send("still here")
                self.assertEqual(await other.recv(), "still here")
        self.run_async(go())

    def test_synchronous_dialog_of_the_seeds(self):
        async def go():
            async with websockets.connect(self.ws_url("/ws/dialog")) as ws:
                self.assertEqual(await ws.recv(), "What is your name?")
                await ws.send("")
                self.assertEqual(await ws.recv(), "Please, insert your name!")
                self.assertEqual(await ws.recv(), "What is your name?")
                await ws.send("Ada")
                self.assertEqual(await ws.recv(), "And your age?")
                await ws.send("many")
                self.assertEqual(await ws.recv(), "Please, insert an valid number")
                self.assertEqual(await ws.recv(), "And your age?")
                await ws.send("36")
                self.assertEqual(await ws.recv(), "You're Ada, and you are 36 old.")
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                self.assertEqual(closed.exception.rcvd.code, 1000)
        self.run_async(go())


class WebSocketShutdownTest(unittest.TestCase):
    def test_graceful_stop_closes_websockets_with_1001(self):
        server = start_test_server("--threads", "2", "--shutdown-timeout-ms", "5000")
        try:
            async def go():
                url = "ws://127.0.0.1:%d" % server.port
                sockets = [await websockets.connect(url + "/ws/echo") for _ in range(4)]
                await sockets[0].send("before the stop")
                self.assertEqual(await sockets[0].recv(), "before the stop")
                server.send_signal(signal.SIGTERM)
                for ws in sockets:
                    with self.assertRaises(websockets.ConnectionClosed) as closed:
                        await asyncio.wait_for(ws.recv(), 10)
                    self.assertEqual(closed.exception.rcvd.code, 1001)
            asyncio.run(go())
            self.assertEqual(server.wait(), 0, server.stderr())
        finally:
            server.close()


if __name__ == "__main__":
    run_tests()
