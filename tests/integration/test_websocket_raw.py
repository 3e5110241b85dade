"""WebSocket server over raw sockets with hand-built frames (RFC 6455): the opening handshake and its
refusals, frames split and coalesced every way, and every malformed input answered with its close code,
after which the server closes TCP, stays up and serves the next client. Against tests/support/test_server
(/ws/echo echoes each message as its kind; /ws/any-method reaches the handshake for any method)."""

import base64
import hashlib
import os
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import IO_TIMEOUT, Reader, ConnectionClosed, connect, exchange, request, send  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KiB = 1024
MiB = 1024 * 1024

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10


# ---------------------------------------------------------------------------------------------
# Frames by hand

def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None, key=None):
    """One frame. `length` overrides the announced payload length (the bytes sent are still `payload`)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n <= 0xFFFF:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4) if key is None else key
    return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 4096 \
        else head + key + _mask_fast(payload, key)


def _mask_fast(payload, key):
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def close_frame(code=None, reason=b"", raw=None):
    if raw is not None:
        return frame(CLOSE, raw)
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return frame(CLOSE, b"" if code is None else struct.pack("!H", code) + reason)


class Frame:
    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin, self.rsv, self.opcode, self.masked, self.payload = fin, rsv, opcode, masked, payload

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self):
        return self.payload[2:]

    def __repr__(self):
        return "<Frame op=%#x fin=%d rsv=%#x masked=%d len=%d %r>" % (
            self.opcode, self.fin, self.rsv, self.masked, len(self.payload), self.payload[:60])


class WsClient:
    """A hand-driven client: the socket, a reader that keeps bytes past the 101, frame reading."""

    def __init__(self, sock, reader, response):
        self.sock, self.reader, self.response = sock, reader, response

    def send(self, data):
        send(self.sock, data)

    def read_frame(self, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        r = self.reader
        r._need(2, deadline)
        b0, b1 = r.buf[0], r.buf[1]
        n, pos = b1 & 0x7F, 2
        if n == 126:
            r._need(4, deadline)
            n, pos = struct.unpack("!H", r.buf[2:4])[0], 4
        elif n == 127:
            r._need(10, deadline)
            n, pos = struct.unpack("!Q", r.buf[2:10])[0], 10
        masked = bool(b1 & 0x80)
        if masked:
            pos += 4
        r._need(pos + n, deadline)
        payload = r.buf[pos:pos + n]
        r.buf = r.buf[pos + n:]
        return Frame(bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F, masked, payload)

    def read_message(self, timeout=IO_TIMEOUT):
        """(opcode, payload) of the next data message, reassembled; control frames are not expected."""
        first = self.read_frame(timeout)
        assert first.opcode in (TEXT, BINARY), first
        data = [first.payload]
        f = first
        while not f.fin:
            f = self.read_frame(timeout)
            assert f.opcode == CONT, f
            data.append(f.payload)
        return first.opcode, b"".join(data)

    def read_mixed(self, messages, pongs, timeout=IO_TIMEOUT):
        """`messages` data messages (opcode, payload) in order and `pongs` pong payloads, in whatever
        interleaving they come: an echo waits for the handler, a pong is sent as the ping is read."""
        got_messages, got_pongs, parts = [], [], []
        while len(got_messages) < messages or len(got_pongs) < pongs:
            f = self.read_frame(timeout)
            if f.opcode == PONG:
                got_pongs.append(f.payload)
                continue
            assert f.opcode in ((CONT,) if parts else (TEXT, BINARY)), f
            parts.append(f)
            if f.fin:
                got_messages.append((parts[0].opcode, b"".join(p.payload for p in parts)))
                parts = []
        return got_messages, got_pongs

    def nothing_arrives(self, seconds):
        """True when no byte (and no EOF) arrives within `seconds`."""
        if self.reader.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            return True
        finally:
            self.sock.settimeout(IO_TIMEOUT)
        self.reader.buf += chunk
        return False

    def wait_eof(self, timeout=IO_TIMEOUT):
        """'fin' (orderly EOF), 'reset', or None when still open at the deadline; extra bytes in .extra."""
        deadline = time.monotonic() + timeout
        self.extra = self.reader.buf
        self.reader.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except (socket.timeout, TimeoutError):
                return None
            except ConnectionResetError:
                return "reset"
            if not chunk:
                return "fin"
            self.extra += chunk

    def close(self):
        self.sock.close()


def handshake_request(path="/ws/echo", key="dGhlIHNhbXBsZSBub25jZQ==", version="13", method="GET",
                      extra=(), upgrade="websocket", connection="Upgrade"):
    headers = []
    if upgrade is not None:
        headers.append(("Upgrade", upgrade))
    if connection is not None:
        headers.append(("Connection", connection))
    if version is not None:
        headers.append(("Sec-WebSocket-Version", version))
    if key is not None:
        headers.append(("Sec-WebSocket-Key", key))
    headers += list(extra)
    return request(method, path, headers, host="127.0.0.1")


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def open_ws(port, path="/ws/echo", trailing=b"", key=None):
    """Connects and completes the handshake; `trailing` bytes go out in the same send as the request."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    s = connect(port)
    try:
        send(s, handshake_request(path, key=key) + trailing)
        reader = Reader(s)
        r = reader.read_response(skip_interim=False)
        if r.status != 101:
            raise AssertionError("handshake failed: %r" % r)
        if r.header("Sec-WebSocket-Accept") != accept_for(key):
            raise AssertionError("wrong Sec-WebSocket-Accept: %r" % r)
    except BaseException:
        s.close()
        raise
    return WsClient(s, reader, r)


# ---------------------------------------------------------------------------------------------

class WebSocketRawCase(harness.ServerTestCase):
    FLAGS = ("--threads", 2)

    def tearDown(self):
        self.assertServerAlive()
        self.assertEchoServes("next client")

    def ws(self, path="/ws/echo", trailing=b""):
        c = open_ws(self.port, path, trailing)
        self.addCleanup(c.close)
        return c

    def assertEchoServes(self, text):
        c = open_ws(self.port)
        try:
            c.send(frame(TEXT, text))
            self.assertEqual(c.read_message(), (TEXT, text.encode()), "the server stopped serving new clients")
            c.send(close_frame(1000))
            self.assertEqual(c.read_frame().close_code, 1000)
        finally:
            c.close()

    def assertClosedWith(self, c, code, allow_reset=True):
        """The next frame is a Close with `code`, and then the server closes TCP."""
        f = c.read_frame()
        self.assertEqual(f.opcode, CLOSE, "expected a Close frame, got %r" % f)
        self.assertFalse(f.masked, "a server frame must not be masked")
        self.assertEqual(f.close_code, code, "close code (reason %r)" % f.close_reason)
        how = c.wait_eof()
        self.assertIsNotNone(how, "the server did not close TCP after its Close frame")
        if not allow_reset:
            self.assertEqual(how, "fin", "the server reset the connection instead of closing it")
        self.assertEqual(c.extra, b"", "bytes after the Close frame")
        return f

    def fails_with(self, data, code, path="/ws/echo"):
        c = self.ws(path)
        c.send(data)
        return self.assertClosedWith(c, code)


class HandshakeTest(WebSocketRawCase):
    def test_accept_key_and_headers(self):
        # The example of RFC 6455 §1.3.
        with connect(self.port) as s:
            send(s, handshake_request(key="dGhlIHNhbXBsZSBub25jZQ=="))
            r = Reader(s).read_response(skip_interim=False)
        self.assertEqual(r.status, 101, r)
        self.assertEqual(r.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertTrue(r.has_token("Upgrade", "websocket"), r)
        self.assertTrue(r.has_token("Connection", "upgrade"), r)
        self.assertIsNone(r.header("Sec-WebSocket-Protocol"), "no subprotocol was offered")
        self.assertIsNone(r.header("Content-Length"), r)
        self.assertIsNone(r.header("Transfer-Encoding"), r)

    def test_wrong_version_is_426_naming_13(self):
        r = exchange(self.port, handshake_request(version="8"))
        self.assertEqual(r.status, 426, r)
        self.assertEqual(r.header("Sec-WebSocket-Version"), "13", r)

    def test_missing_key_is_400(self):
        r = exchange(self.port, handshake_request(key=None))
        self.assertEqual(r.status, 400, r)

    def test_bad_keys_are_400(self):
        for key in ("c2hvcnQ=",                        # 5 bytes
                    "AAAAAAAAAAAAAAAAAAAAAAA=",         # 17 bytes
                    "AAAAAAAAAAAAAAAAAAAA",             # 15 bytes, no padding
                    "AAAAAAAAAAAAAAAAAAAA!A==",         # not base64
                    ""):
            with self.subTest(key=key):
                r = exchange(self.port, handshake_request(key=key))
                self.assertEqual(r.status, 400, r)

    def test_post_upgrade_to_a_handshaking_route_is_400(self):
        # /ws/any-method hands every method to accept_websocket(): only GET may upgrade (§4.1).
        r = exchange(self.port, handshake_request("/ws/any-method", method="POST",
                                                  extra=[("Content-Length", "0")]))
        self.assertEqual(r.status, 400, r)
        self.assertNotEqual(r.status, 101)
        # The same route upgrades a GET.
        c = self.ws("/ws/any-method")
        c.send(close_frame(1000))
        self.assertClosedWith(c, 1000)

    def test_post_upgrade_to_a_ws_route_is_refused(self):
        # ws() routes are GET routes: the router refuses other methods (405, Allow: GET) before the
        # handshake code could answer 400. Either way it must not upgrade.
        r = exchange(self.port, handshake_request(method="POST", extra=[("Content-Length", "0")]))
        self.assertIn(r.status, (400, 405), r)
        if r.status == 405:
            self.assertTrue(r.has_token("Allow", "GET"), r)

    def test_plain_get_is_426_with_upgrade_headers(self):
        r = exchange(self.port, request("GET", "/ws/echo"))
        self.assertEqual(r.status, 426, r)
        self.assertTrue(r.has_token("Upgrade", "websocket"), r)
        # RFC 9110 §7.8: "When Upgrade is sent, the sender MUST also send a Connection header field
        # that contains an 'upgrade' connection option".
        self.assertTrue(r.has_token("Connection", "upgrade"), r)

    def test_missing_connection_upgrade_is_400(self):
        r = exchange(self.port, handshake_request(connection="keep-alive"))
        self.assertEqual(r.status, 400, r)

    def test_http10_upgrade_is_400(self):
        raw = handshake_request().replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        r = exchange(self.port, raw)
        self.assertEqual(r.status, 400, r)

    def test_frame_right_behind_the_handshake_is_echoed(self):
        c = self.ws(trailing=frame(TEXT, "sent with the request"))
        self.assertEqual(c.read_message(), (TEXT, b"sent with the request"))

    def test_many_frames_behind_the_handshake(self):
        big = os.urandom(70 * KiB)  # more than the first read can hold together with the request
        trailing = frame(TEXT, "one") + frame(PING, b"p") + frame(BINARY, big) + frame(TEXT, "two")
        c = self.ws(trailing=trailing)
        messages, pongs = c.read_mixed(3, 1)
        self.assertEqual(messages, [(TEXT, b"one"), (BINARY, big), (TEXT, b"two")])
        self.assertEqual(pongs, [b"p"])

    def test_close_right_behind_the_handshake(self):
        c = self.ws(trailing=close_frame(1000, "at once"))
        self.assertClosedWith(c, 1000, allow_reset=False)


class FramingTest(WebSocketRawCase):
    """Valid input split and coalesced in every way the parser must cope with."""

    def test_echo_lengths_across_the_length_encodings(self):
        for path in ("/ws/echo", "/ws/post-echo"):
            c = self.ws(path)
            for n in (0, 1, 125, 126, 127, 4095, 4096, 65535, 65536, 65537, 300 * KiB):
                for opcode in (TEXT, BINARY):
                    with self.subTest(path=path, n=n, opcode=opcode):
                        payload = (b"abcdefghij" * (n // 10 + 1))[:n] if opcode == TEXT else os.urandom(n)
                        c.send(frame(opcode, payload))
                        self.assertEqual(c.read_message(), (opcode, payload))

    def test_large_echoes_to_a_slow_reader_keep_their_bytes(self):
        # Large frames that come whole in one read are echoed from the loop's read buffer. What the
        # slow reader's socket cannot take at once must be copied before another connection's read
        # reuses that buffer: here the busy connection's echoes would otherwise land in its answers.
        slow, busy = self.ws("/ws/post-echo"), self.ws("/ws/post-echo")
        payloads = [os.urandom(64 * KiB + 7 * i) for i in range(256)]  # beyond what socket buffers hold
        data = b"".join(frame(BINARY, p) for p in payloads)
        sender = threading.Thread(target=slow.sock.sendall, args=(data,), daemon=True)
        sender.start()  # blocks while the server, its answers backed up, stops reading this connection
        time.sleep(0.5)
        for i in range(20):
            other = bytes([i]) * (200 * KiB)
            busy.send(frame(BINARY, other))
            self.assertEqual(busy.read_message(), (BINARY, other))
        for i, p in enumerate(payloads):
            self.assertEqual(slow.read_message(), (BINARY, p), "echo %d" % i)
        sender.join(IO_TIMEOUT)
        self.assertFalse(sender.is_alive())

    def test_non_minimal_length_encoding_is_accepted(self):
        c = self.ws()
        key = b"\x01\x02\x03\x04"
        payload = b"short"
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        c.send(bytes([0x81, 0x80 | 126]) + struct.pack("!H", 5) + key + masked)
        self.assertEqual(c.read_message(), (TEXT, payload))
        c.send(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 5) + key + masked)
        self.assertEqual(c.read_message(), (TEXT, payload))

    def test_frame_sent_one_byte_at_a_time(self):
        c = self.ws()
        data = frame(TEXT, "dribbled €") + frame(PING, b"ping!") + frame(BINARY, bytes(range(200)))
        for i in range(len(data)):
            c.send(data[i:i + 1])
            if i % 7 == 0:
                time.sleep(0.002)
        messages, pongs = c.read_mixed(2, 1)
        self.assertEqual(messages, [(TEXT, "dribbled €".encode()), (BINARY, bytes(range(200)))])
        self.assertEqual(pongs, [b"ping!"])

    def test_many_frames_in_one_send(self):
        c = self.ws()
        c.send(b"".join(frame(TEXT, "m%d" % i) for i in range(200)))
        for i in range(200):
            self.assertEqual(c.read_message(), (TEXT, b"m%d" % i))

    def test_fragmented_message_is_echoed_whole(self):
        c = self.ws()
        c.send(frame(TEXT, "Hel", fin=False) + frame(CONT, "lo, ", fin=False) + frame(CONT, "", fin=False)
               + frame(CONT, "world", fin=True))
        self.assertEqual(c.read_message(), (TEXT, b"Hello, world"))
        c.send(frame(BINARY, b"\x00\x01", fin=False) + frame(CONT, b"\xff", fin=True))
        self.assertEqual(c.read_message(), (BINARY, b"\x00\x01\xff"))

    def test_character_split_across_fragments(self):
        c = self.ws()
        emoji = "😀".encode()  # f0 9f 98 80
        c.send(frame(TEXT, b"a" + emoji[:1], fin=False))
        c.send(frame(CONT, emoji[1:3], fin=False))
        c.send(frame(CONT, emoji[3:] + b"z", fin=True))
        self.assertEqual(c.read_message(), (TEXT, b"a" + emoji + b"z"))

    def test_ping_payloads_come_back_in_pongs(self):
        c = self.ws()
        for payload in (b"", b"x", os.urandom(125)):
            with self.subTest(n=len(payload)):
                c.send(frame(PING, payload))
                f = c.read_frame()
                self.assertEqual((f.opcode, f.fin, f.payload), (PONG, True, payload))

    def test_ping_split_across_reads(self):
        c = self.ws()
        data = frame(PING, b"0123456789" * 12)
        c.send(data[:1])
        time.sleep(0.05)
        c.send(data[1:8])
        time.sleep(0.05)
        c.send(data[8:])
        f = c.read_frame()
        self.assertEqual((f.opcode, f.payload), (PONG, b"0123456789" * 12))

    def test_ping_inside_a_fragmented_message(self):
        c = self.ws()
        c.send(frame(TEXT, "Hello, ", fin=False) + frame(PING, b"in between"))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.payload), (PONG, b"in between"), "the pong must not wait for the message")
        c.send(frame(PONG, b"unsolicited") + frame(CONT, "world", fin=True))
        self.assertEqual(c.read_message(), (TEXT, b"Hello, world"))

    def test_unsolicited_pong_is_ignored(self):
        c = self.ws()
        c.send(frame(PONG, b"heartbeat"))
        c.send(frame(TEXT, "after the pong"))
        self.assertEqual(c.read_message(), (TEXT, b"after the pong"))


class ProtocolErrorTest(WebSocketRawCase):
    """Each malformed input: its close code, TCP closed by the server, the server still serving."""

    def test_unmasked_client_frame_is_1002(self):
        self.fails_with(frame(TEXT, "not masked", mask=False), 1002)

    def test_reserved_bits_are_1002(self):
        for rsv in (RSV1, RSV2, RSV3):
            with self.subTest(rsv=rsv):
                self.fails_with(frame(TEXT, "compressed?", rsv=rsv), 1002)

    def test_rsv1_on_a_control_frame_is_1002(self):
        self.fails_with(frame(PING, b"x", rsv=RSV1), 1002)

    def test_reserved_opcodes_are_1002(self):
        for opcode in (0x3, 0x7, 0xB, 0xF):
            with self.subTest(opcode=opcode):
                self.fails_with(frame(opcode, b"what"), 1002)

    def test_control_frame_with_126_byte_payload_is_1002(self):
        for opcode in (PING, PONG, CLOSE):
            with self.subTest(opcode=opcode):
                payload = struct.pack("!H", 1000) + b"r" * 124 if opcode == CLOSE else b"p" * 126
                self.fails_with(frame(opcode, payload), 1002)

    def test_fragmented_ping_is_1002(self):
        self.fails_with(frame(PING, b"part", fin=False), 1002)

    def test_continuation_without_a_start_is_1002(self):
        self.fails_with(frame(CONT, "orphan", fin=True), 1002)

    def test_continuation_after_a_finished_message_is_1002(self):
        c = self.ws()
        c.send(frame(TEXT, "whole"))
        self.assertEqual(c.read_message(), (TEXT, b"whole"))
        c.send(frame(CONT, "late", fin=True))
        self.assertClosedWith(c, 1002)

    def test_new_data_frame_inside_a_fragmented_message_is_1002(self):
        for opcode in (TEXT, BINARY):
            with self.subTest(opcode=opcode):
                self.fails_with(frame(TEXT, "start", fin=False) + frame(opcode, "intruder"), 1002)

    def test_64_bit_length_with_msb_set_is_1002(self):
        c = self.ws()
        c.send(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", (1 << 63) | 5) + b"\x00\x00\x00\x00" + b"hello")
        self.assertClosedWith(c, 1002)

    def test_frame_over_the_limit_is_1009_before_its_payload(self):
        c = self.ws()
        c.send(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 16 * MiB + 1) + os.urandom(4))
        self.assertClosedWith(c, 1009)

    def test_fragments_over_the_limit_are_1009(self):
        c = self.ws()
        c.send(frame(BINARY, os.urandom(8 * MiB), fin=False))
        self.assertTrue(c.nothing_arrives(0.2), "8 MiB are within the limit")
        # The header alone announces 16 MiB + 1 in total: refused before the payload is sent.
        c.send(frame(CONT, b"", fin=True, length=8 * MiB + 1))  # the 14 header bytes only
        self.assertClosedWith(c, 1009)

    def test_invalid_utf8_text_is_1007(self):
        cases = {
            "lone continuation byte": b"\x80",
            "0xff": b"ok\xff",
            "overlong slash": b"\xc0\xaf",
            "UTF-16 surrogate": b"\xed\xa0\x80",
            "above U+10FFFF": b"\xf4\x90\x80\x80",
            "truncated at the end": b"ok\xe2\x82",
        }
        for name, payload in cases.items():
            with self.subTest(name):
                self.fails_with(frame(TEXT, payload), 1007)

    def test_invalid_utf8_in_a_first_fragment_fails_at_once(self):
        c = self.ws()
        c.send(frame(TEXT, b"valid start \xff", fin=False))
        # The Close must come now: the final fragment is not sent before it arrived.
        self.assertClosedWith(c, 1007)

    def test_invalid_utf8_split_across_fragments_fails_at_the_bad_byte(self):
        c = self.ws()
        c.send(frame(TEXT, b"euro \xe2\x82", fin=False))  # a valid prefix of U+20AC
        self.assertTrue(c.nothing_arrives(0.3), "a character may continue in the next fragment")
        c.send(frame(CONT, b"(rest", fin=False))  # '(' cannot continue the character
        self.assertClosedWith(c, 1007)

    def test_text_ending_inside_a_character_across_fragments_is_1007(self):
        c = self.ws()
        c.send(frame(TEXT, b"abc\xf0\x9f", fin=False))
        self.assertTrue(c.nothing_arrives(0.2))
        c.send(frame(CONT, b"\x98", fin=True))
        self.assertClosedWith(c, 1007)

    def test_binary_is_not_checked_for_utf8(self):
        c = self.ws()
        c.send(frame(BINARY, b"\xff\xfe\xc0\xaf"))
        self.assertEqual(c.read_message(), (BINARY, b"\xff\xfe\xc0\xaf"))


class CloseTest(WebSocketRawCase):
    def test_valid_close_is_echoed_then_the_server_closes_tcp(self):
        c = self.ws()
        c.send(close_frame(1000, "done here"))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.close_code), (CLOSE, 1000), f)
        self.assertFalse(f.masked)
        # The server closes first (§7.1.1): EOF without the client closing anything.
        self.assertEqual(c.wait_eof(), "fin")
        self.assertEqual(c.extra, b"")

    def test_application_close_code_is_echoed(self):
        for code in (1001, 3000, 4001, 4999):
            with self.subTest(code=code):
                c = self.ws()
                c.send(close_frame(code, "app reason"))
                self.assertClosedWith(c, code, allow_reset=False)

    def test_close_without_payload_is_answered_without_code(self):
        c = self.ws()
        c.send(close_frame())
        f = c.read_frame()
        self.assertEqual((f.opcode, f.payload), (CLOSE, b""), f)
        self.assertEqual(c.wait_eof(), "fin")

    def test_close_with_one_byte_payload_is_1002(self):
        self.fails_with(close_frame(raw=b"\x03"), 1002)

    def test_close_with_invalid_codes_is_1002(self):
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
            with self.subTest(code=code):
                self.fails_with(close_frame(code), 1002)

    def test_close_with_non_utf8_reason_is_1007(self):
        self.fails_with(close_frame(1000, b"bad \xff reason"), 1007)
        self.fails_with(close_frame(1000, b"\xed\xa0\x80"), 1007)

    def test_close_with_a_max_size_reason_is_echoed(self):
        c = self.ws()
        c.send(close_frame(4002, "é" * 61 + "x"))  # 2 + 123 bytes
        self.assertClosedWith(c, 4002, allow_reset=False)

    def test_data_after_close_is_ignored(self):
        c = self.ws()
        c.send(close_frame(1000) + frame(TEXT, "after close") + frame(PING, b"after close"))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.close_code), (CLOSE, 1000), f)
        self.assertEqual(c.wait_eof(), "fin")
        self.assertEqual(c.extra, b"", "the server answered frames sent after the Close")

    def test_data_after_close_in_a_later_send_is_ignored(self):
        c = self.ws()
        c.send(close_frame(1000))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.close_code), (CLOSE, 1000), f)
        harness.send_tolerant(c.sock, frame(TEXT, "too late"))
        self.assertIn(c.wait_eof(), ("fin", "reset"))
        self.assertEqual(c.extra, b"")

    def test_close_inside_a_fragmented_message(self):
        c = self.ws()
        c.send(frame(TEXT, "never finished", fin=False) + close_frame(1000))
        self.assertClosedWith(c, 1000, allow_reset=False)

    def test_server_initiated_close(self):
        c = self.ws("/ws/push-close")
        self.assertEqual(c.read_message(), (TEXT, b"pushed by the server"))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.close_code, f.close_reason), (CLOSE, 4000, b"bye from the server"))
        # The server waits for our answer; after it, the server closes TCP.
        self.assertTrue(c.nothing_arrives(0.2), "the server must wait for the client's Close")
        c.send(close_frame(4000))
        self.assertEqual(c.wait_eof(), "fin")

    def test_peer_vanishing_mid_frame_leaves_the_server_serving(self):
        c = self.ws()
        c.send(frame(BINARY, os.urandom(1000))[:300])
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()  # reset
        time.sleep(0.1)
        self.assertServerAlive()


class ProtocolErrorUnderLoadTest(WebSocketRawCase):
    """A client that keeps sending after the server failed the connection must still see the Close."""

    def test_close_1009_reaches_a_client_still_sending(self):
        c = self.ws()
        # 16 MiB + 1 announced: the server refuses at the header, while the client is still writing the
        # payload (as a client library does: it reads only after its send completed).
        data = frame(BINARY, b"\x00" * (16 * MiB + 1))
        c.sock.sendall(data[:64 * KiB])
        try:
            f = c.read_frame()
        except (ConnectionResetError, ConnectionClosed) as e:
            self.fail("the server reset the connection and the Close 1009 was lost: %r" % e)
        self.assertEqual((f.opcode, f.close_code), (CLOSE, 1009), f)
        # The rest of the message: the server must drain it (lingering close), not reset the connection;
        # a reset makes clients that are still writing drop the unread Close (node ws then reports 1006).
        try:
            for i in range(64 * KiB, 8 * MiB, MiB):
                c.sock.sendall(data[i:i + MiB])
        except (BrokenPipeError, ConnectionResetError) as e:
            self.fail("the server reset the connection while the client was still sending: %r" % e)
        c.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(c.wait_eof(), "fin", "the server should end with an orderly close")

    def test_close_1002_and_a_client_still_sending(self):
        c = self.ws()
        c.send(frame(TEXT, "bad", rsv=RSV2))
        f = c.read_frame()
        self.assertEqual((f.opcode, f.close_code), (CLOSE, 1002), f)
        try:
            for _ in range(8):
                c.sock.sendall(frame(BINARY, b"\x00" * MiB))
        except (BrokenPipeError, ConnectionResetError) as e:
            self.fail("the server reset the connection while the client was still sending: %r" % e)
        c.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(c.wait_eof(), "fin", "the server should end with an orderly close")


class CallbackReplyOptionsTest(WebSocketRawCase):
    """Replies sent by a callback inside the read that brought their message (the echo's fast path)
    follow the connection's options: frames of at most buffer_size bytes, the backlog and its policy."""

    def test_replies_are_cut_into_frames_of_buffer_size(self):
        c = self.ws("/ws/small-frames")  # buffer_size 8
        blob = bytes(range(64))
        c.send(frame(TEXT, "hello, fragmented world") + frame(BINARY, blob) + frame(TEXT, "short"))
        for opcode, payload in ((TEXT, b"hello, fragmented world"), (BINARY, blob), (TEXT, b"short")):
            frames = [c.read_frame()]
            while not frames[-1].fin:
                frames.append(c.read_frame())
            self.assertEqual(frames[0].opcode, opcode)
            self.assertTrue(all(f.opcode == CONT for f in frames[1:]), frames)
            self.assertTrue(all(len(f.payload) <= 8 for f in frames), frames)
            self.assertEqual(len(frames), (len(payload) + 7) // 8)
            self.assertEqual(b"".join(f.payload for f in frames), payload)

    def test_replies_over_the_backlog_are_dropped_by_the_drop_policy(self):
        c = self.ws("/ws/tight-backlog-drop")  # 64: queued bytes (0, 22, 44, 66) + a 20-byte payload fit 3 times
        messages = ["message %02d, 20 bytes" % i for i in range(5)]
        self.assertEqual({len(m) for m in messages}, {20})
        c.send(b"".join(frame(TEXT, m) for m in messages))
        for m in messages[:3]:
            self.assertEqual(c.read_message(), (TEXT, m.encode()))
        self.assertTrue(c.nothing_arrives(0.3), "replies over the backlog must be dropped")
        c.send(frame(TEXT, "after the burst"))
        self.assertEqual(c.read_message(), (TEXT, b"after the burst"))

    def test_replies_over_the_backlog_close_with_1008_by_default(self):
        c = self.ws("/ws/tight-backlog-close")
        c.send(b"".join(frame(TEXT, "message %02d, 20 bytes" % i) for i in range(5)))
        self.assertClosedWith(c, 1008)


if __name__ == "__main__":
    harness.run_tests()
