"""Our WebSocket client (herald::websocket::connect, driven by tests/support/ws_client_check, and the
`herald ws` command) against servers we did not write — python-websockets, and raw fake servers that
answer the handshake or send frames wrongly — and against our own `herald serve`."""

import asyncio
import base64
import hashlib
import http
import os
import socket
import struct
import subprocess
import sys
import threading
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError as e:  # a missing peer must fail the test, not skip it
    raise SystemExit("python3-websockets is required (scripts/setup.sh test): %s" % e)

CLIENT = os.environ.get("HERALD_TEST_WS_CLIENT", "")
RUN_TIMEOUT = 120
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def run_client(*args, timeout=RUN_TIMEOUT, stdin=None):
    harness.require_binary(CLIENT, "HERALD_TEST_WS_CLIENT")
    return subprocess.run([CLIENT] + [str(a) for a in args], capture_output=True, timeout=timeout, input=stdin)


def run_herald_ws(*args, stdin=b"", timeout=30):
    """`herald ws ARGS` with `stdin` bytes as its input; stdin=None gives it /dev/null (ends at once)."""
    harness.require_binary(harness.HERALD_BIN, "HERALD_BIN")
    return subprocess.run([harness.HERALD_BIN, "ws"] + [str(a) for a in args], capture_output=True,
                          timeout=timeout, input=stdin, stdin=subprocess.DEVNULL if stdin is None else None)


class PythonServer:
    """A python-websockets server on its own asyncio loop in a thread; `handler(ws)` per connection."""

    def __init__(self, handler, **kwargs):
        self.handler = handler
        self.kwargs = kwargs
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("python websockets server did not start")

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def handle(ws, path=None):
            try:
                await self.handler(ws)
            except websockets.exceptions.ConnectionClosed:
                pass
            except Exception as e:  # reported by the test, not lost in the thread
                self.errors.append(repr(e))

        async def main():
            self.stop_future = self.loop.create_future()
            async with websockets.serve(handle, "127.0.0.1", 0, max_size=None, ping_interval=None,
                                        **self.kwargs) as server:
                self.port = server.sockets[0].getsockname()[1]
                self.ready.set()
                await self.stop_future

        self.loop.run_until_complete(main())

    def url(self, path="/"):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.loop.call_soon_threadsafe(lambda: self.stop_future.done() or self.stop_future.set_result(None))
        self.thread.join(10)


async def echo(ws):
    async for message in ws:
        await ws.send(message)


class AgainstPythonWebsockets(unittest.TestCase):
    def server(self, handler, **kwargs):
        s = PythonServer(handler, **kwargs)
        self.addCleanup(s.close)
        self.addCleanup(lambda: self.assertEqual(s.errors, []))
        return s

    def test_echo_every_length_encoding_up_to_16_mib(self):
        s = self.server(echo)
        r = run_client("echo", s.url("/echo"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"echoed 1022 messages", r.stdout)
        self.assertIn(b"closed 1000", r.stdout)

    def test_fragmented_messages_pings_and_server_close(self):
        seen = {}

        async def handler(ws):
            await ws.send(["frag1", "frag2", "frag3"])          # one text message in three frames
            await ws.send([b"\x00\x01", b"\x02" * 70000])       # one binary message in two frames
            pong = await ws.ping(b"hb")
            await asyncio.wait_for(pong, 5)                       # our client answers the Ping
            seen["pong"] = True
            await ws.send("echo-me")
            seen["reply"] = await asyncio.wait_for(ws.recv(), 5)
            await ws.close(4002, "server done")

        s = self.server(handler)
        r = run_client("listen", s.url())
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("text 15 frag1frag2frag3", out)
        self.assertIn("binary 70002", out)
        self.assertIn("ping hb", out)
        self.assertIn("closed 4002 server done", out)
        self.assertEqual(seen, {"pong": True, "reply": "echoed"})

    def test_server_initiated_close_codes(self):
        for code in (1000, 1001, 1008, 1011, 4000):
            with self.subTest(code=code):
                async def handler(ws, code=code):
                    await ws.close(code, "reason %d" % code)

                s = self.server(handler)
                r = run_client("listen", s.url())
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertIn("closed %d reason %d" % (code, code), r.stdout.decode())

    def test_client_close_code_reaches_the_server(self):
        got = {}
        done = threading.Event()

        async def handler(ws):
            try:
                await ws.recv()
            except websockets.exceptions.ConnectionClosed as e:
                got["code"], got["reason"] = e.code, e.reason
                done.set()

        s = self.server(handler)
        r = run_client("close", s.url(), 4001)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"closed 4001", r.stdout)
        self.assertTrue(done.wait(10))
        self.assertEqual(got, {"code": 4001, "reason": "bye"})

    def test_subprotocol_negotiation(self):
        s = self.server(echo, subprotocols=["superchat", "chat"])
        r = run_client("subprotocol", s.url(), "chat", "v2")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"subprotocol chat\n", r.stdout)
        r = run_client("subprotocol", s.url(), "v2")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"subprotocol \n", r.stdout)

    def test_callback_style_connect(self):
        s = self.server(echo)
        r = run_client("vapor", s.url())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"reply hello", r.stdout)

    def test_refused_handshake_reports_the_status(self):
        async def reject(path, headers):
            return (http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"no\n")

        s = self.server(echo, process_request=reject)
        r = run_client("fail", s.url())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"status 403", r.stdout)
        self.assertIn(b"403 Forbidden instead of 101", r.stdout)

    # ---- herald ws ----

    def test_herald_ws_pipe_sends_lines_and_prints_replies(self):
        s = self.server(echo)
        r = run_herald_ws(s.url(), stdin=b"a\nb\nlast line\n")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"a\nb\nlast line\n")

    def test_herald_ws_prints_binary_as_hex_or_base64(self):
        async def handler(ws):
            await ws.send(b"\x00\xffAB")
            await ws.close()

        s = self.server(handler)
        r = run_herald_ws(s.url(), stdin=None)
        self.assertEqual((r.returncode, r.stdout), (0, b"00ff4142\n"), r.stderr.decode())
        r = run_herald_ws("--base64", s.url(), stdin=None)
        self.assertEqual((r.returncode, r.stdout), (0, base64.b64encode(b"\x00\xffAB") + b"\n"), r.stderr.decode())

    def test_herald_ws_echo_mode(self):
        got = []

        async def handler(ws):
            for message in ("one", b"\x01\x02", "three"):
                await ws.send(message)
                got.append(await asyncio.wait_for(ws.recv(), 5))
            await ws.close(1000)

        s = self.server(handler)
        r = run_herald_ws("--echo", s.url(), stdin=None)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(got, ["one", b"\x01\x02", "three"])

    def test_herald_ws_exit_codes(self):
        async def handler(ws):
            await ws.close(4000, "go away")

        s = self.server(handler)
        # Input ending at once races the server's close: whichever comes first, the program ends cleanly.
        for _ in range(10):
            r = run_herald_ws(s.url(), stdin=None)
            self.assertEqual(r.returncode, 3, r.stderr.decode())
            self.assertIn(b"4000 go away", r.stderr)
        r = run_herald_ws("ws://127.0.0.1:%d/" % harness.free_port(), stdin=b"")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot connect", r.stderr)
        r = run_herald_ws("http://127.0.0.1:1/", stdin=b"")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"ws://", r.stderr)

    def test_herald_ws_reconnect_keeps_going_after_the_server_closes(self):
        connections = []

        async def handler(ws):
            connections.append(ws)
            if len(connections) == 1:
                await ws.close(1012, "restarting")
                return
            await echo(ws)

        s = self.server(handler)
        p = subprocess.Popen([harness.HERALD_BIN, "ws", "--reconnect", "--linger", "300", s.url()],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        seen = []
        reconnected = threading.Event()

        def watch():
            for line in p.stderr:
                seen.append(line.decode().strip())
                if seen[-1].endswith("open") and any(x.endswith("reconnecting") for x in seen):
                    reconnected.set()

        threading.Thread(target=watch, daemon=True).start()
        self.assertTrue(reconnected.wait(15), seen)
        p.stdin.write(b"a\nb\n")
        p.stdin.close()  # stderr stays with the watcher; stdout is read to its end here
        out = p.stdout.read()
        self.assertEqual((p.wait(20), out), (0, b"a\nb\n"), seen)
        self.assertEqual(len(connections), 2)

    def test_herald_ws_exits_0_when_the_server_closes_first(self):
        async def handler(ws):
            await ws.send("bye")
            await ws.close(1000)

        s = self.server(handler)
        # stdin stays open: the server's close alone ends the program.
        p = subprocess.Popen([harness.HERALD_BIN, "ws", s.url()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        self.assertEqual(p.wait(15), 0, p.stderr.read())
        self.assertEqual(p.stdout.read(), b"bye\n")
        p.stdin.close()

    def test_herald_ws_header_and_subprotocol_flags(self):
        seen = {}

        async def handler(ws):
            seen["auth"] = ws.request_headers.get("Authorization")
            seen["subprotocol"] = ws.subprotocol
            await ws.close()

        s = self.server(handler, subprotocols=["chat"])
        r = run_herald_ws("-H", "Authorization: Bearer t0k", "--subprotocol", "chat", s.url(), stdin=None)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(seen, {"auth": "Bearer t0k", "subprotocol": "chat"})


# ---------------------------------------------------------------------------------------------
# A fake server that answers on a raw socket: each malformed answer makes the client fail cleanly.

def accept_value(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise AssertionError("client closed before sending its request")
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def good_101(key, extra=""):
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept_value(key), extra)).encode()


def frame(opcode, payload, fin=True, mask=None, rsv=0):
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", first, mask_bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def read_frame(conn):
    """One frame from the client: (opcode, masked, unmasked payload)."""
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise AssertionError("client closed mid-frame")
            data += chunk
        return data
    b0, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exact(8))[0]
    masked = bool(b1 & 0x80)
    key = exact(4) if masked else b"\0\0\0\0"
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(exact(n)))
    return b0 & 0x0F, masked, payload


class FakeServer:
    """Accepts one connection on loopback and runs `script(conn, key)` on it in a thread."""

    def __init__(self, script):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.result = {}
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(10)
            with conn:
                headers = read_head(conn)
                self.result["request"] = headers
                script(conn, headers.get("sec-websocket-key", ""), self.result)
        except Exception as e:
            self.result["error"] = repr(e)

    def url(self):
        return "ws://127.0.0.1:%d/" % self.port

    def join(self):
        self.thread.join(20)
        self.sock.close()
        return self.result


class AgainstFakeServers(unittest.TestCase):
    def handshake_failure(self, response, expect, timeout_ms=5000):
        def script(conn, key, result):
            conn.sendall(response(key))
            try:
                conn.recv(1)  # until the client gives up
            except OSError:
                pass

        fake = FakeServer(script)
        r = run_client("fail", fake.url(), timeout_ms, timeout=30)
        result = fake.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(expect, r.stdout.decode())
        return result

    def test_request_is_a_valid_handshake(self):
        result = self.handshake_failure(lambda key: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "status 400")
        req = result["request"]
        self.assertEqual(req["upgrade"].lower(), "websocket")
        self.assertEqual(req["sec-websocket-version"], "13")
        self.assertEqual(len(base64.b64decode(req["sec-websocket-key"])), 16)
        self.assertEqual(req["sec-websocket-protocol"], "chat")

    def test_wrong_accept(self):
        self.handshake_failure(lambda key: good_101("x").replace(accept_value("x").encode(), b"A" * 27 + b"="),
                               "Sec-WebSocket-Accept does not match")

    def test_missing_upgrade(self):
        self.handshake_failure(lambda key: good_101(key).replace(b"Upgrade: websocket\r\n", b""), "Upgrade is not")

    def test_unoffered_subprotocol(self):
        self.handshake_failure(lambda key: good_101(key, "Sec-WebSocket-Protocol: other\r\n"),
                               "subprotocol 'other', which we did not offer")

    def test_unoffered_extension(self):
        self.handshake_failure(lambda key: good_101(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                               "extension 'permessage-deflate', which we did not offer")

    def test_malformed_status_line(self):
        self.handshake_failure(lambda key: b"HTTP/1.1 abc Nope\r\n\r\n", "malformed")

    def test_closed_before_the_head(self):
        def script(conn, key, result):
            conn.sendall(b"HTTP/1.1 101 Swi")

        fake = FakeServer(script)
        r = run_client("fail", fake.url(), 5000)
        fake.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"closed the connection before a complete response head", r.stdout)

    def test_handshake_timeout(self):
        def script(conn, key, result):
            try:
                conn.recv(1)
            except OSError:
                pass

        fake = FakeServer(script)
        r = run_client("fail", fake.url(), 300, timeout=20)
        fake.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"no response head within 300 ms", r.stdout)

    def frame_failure(self, frames, code):
        """After a good 101 the server sends `frames`; the client must answer with a masked Close `code`."""
        def script(conn, key, result):
            conn.sendall(good_101(key) + frames)
            opcode, masked, payload = read_frame(conn)
            result["close"] = (opcode, masked, struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None)

        fake = FakeServer(script)
        r = run_client("listen", fake.url(), timeout=30)
        result = fake.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertNotIn("error", result)
        self.assertEqual(result["close"], (0x8, True, code))
        self.assertIn("closed %d" % code, r.stdout.decode())

    def test_masked_frame_from_server(self):
        self.frame_failure(frame(0x1, b"hi", mask=b"\x01\x02\x03\x04"), 1002)

    def test_invalid_utf8_text(self):
        self.frame_failure(frame(0x1, b"ok \xc3\x28"), 1007)

    def test_bad_close_code(self):
        self.frame_failure(frame(0x8, struct.pack("!H", 1005)), 1002)
        self.frame_failure(frame(0x8, struct.pack("!H", 999)), 1002)

    def test_reserved_bit(self):
        self.frame_failure(frame(0x1, b"x", rsv=0x40), 1002)

    def test_frames_right_behind_the_101_are_delivered(self):
        def script(conn, key, result):
            conn.sendall(good_101(key) + frame(0x1, b"early") + frame(0x8, struct.pack("!H", 1000)))
            result["close"] = read_frame(conn)[:2]

        fake = FakeServer(script)
        r = run_client("listen", fake.url(), timeout=30)
        result = fake.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"text 5 early", r.stdout)
        self.assertEqual(result["close"], (0x8, True))


class AgainstHeraldServe(harness.HeraldServeTestCase):
    def test_echo_every_length_encoding_up_to_16_mib(self):
        r = run_client("echo", "ws://127.0.0.1:%d/ws/echo" % self.port)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"echoed 1022 messages", r.stdout)

    def test_herald_ws_pipe(self):
        r = run_herald_ws("ws://127.0.0.1:%d/ws/echo" % self.port, stdin=b"a\nb\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"a\nb\n"), r.stderr.decode())

    def test_herald_ws_refused_handshake_exits_1(self):
        r = run_herald_ws("ws://127.0.0.1:%d/nope" % self.port, stdin=b"")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"404", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
