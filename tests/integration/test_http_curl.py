"""HTTP/1.1 server core seen by a real client: curl against tests/support/test_server."""

import hashlib
import os
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import curl  # noqa: E402

STATIC_BYTES = bytes((i * 7 + 3) % 256 for i in range(5000))


def big_body(n):
    """What /big?n= answers: 'x' everywhere, a letter every 997 bytes."""
    b = bytearray(b"x" * n)
    for i in range(0, n, 997):
        b[i] = ord("a") + (i // 997) % 26
    return bytes(b)


class CurlTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-curl-")
        cls.static_dir = os.path.join(cls.tmp, "static")
        os.mkdir(cls.static_dir)
        with open(os.path.join(cls.static_dir, "data.bin"), "wb") as f:
            f.write(STATIC_BYTES)
        cls.FLAGS = ("--threads", 2, "--static", cls.static_dir)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertServerAlive()

    def write_tmp(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # ---- connections ----

    def test_keep_alive_reuses_the_connection(self):
        r = curl("-v", self.url("/hello"), self.url("/rooms/7"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual([b[0] for b in r.header_blocks], [200, 200])
        self.assertEqual(r.body, b"hello7")
        self.assertRegex(r.stderr, r"Re-?using existing connection", "curl opened a second connection")
        self.assertEqual(r.stderr.count("Connected to"), 1, r.stderr)

    def test_http_1_0(self):
        r = curl("-0", "-v", self.url("/hello"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertIn("GET /hello HTTP/1.0", r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello")
        self.assertEqual(r.header("Content-Length"), "5")
        # A 1.0 request without keep-alive: the server closes after answering.
        self.assertEqual((r.header("Connection") or "").lower(), "close")

    def test_http_1_0_streamed_response_is_delimited_by_close(self):
        r = curl("-0", self.url("/stream?n=4"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Transfer-Encoding"), "chunked is not HTTP/1.0")
        self.assertEqual(r.body, b"".join(b"chunk %d\n" % i for i in range(4)))

    @unittest.skipUnless(harness.ipv6_loopback_available(), "no IPv6 loopback")
    def test_ipv6_loopback(self):
        server = harness.start_test_server("--threads", 1, "--ipv6", 1)
        try:
            r = curl("-g", "http://[::1]:%d/rooms/six" % server.port)
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual((r.status, r.body), (200, b"six"))
            r4 = curl("http://127.0.0.1:%d/hello" % server.port)
            self.assertEqual((r4.status, r4.body), (200, b"hello"))
        finally:
            rc = server.stop()
            server.close()
        self.assertEqual(rc, 0)

    # ---- request bodies ----

    def test_chunked_upload_is_echoed(self):
        data = os.urandom(300_000)
        path = self.write_tmp("upload.bin", data)
        r = curl("-v", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path, self.url("/echo"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertIn("Transfer-Encoding: chunked", r.stderr)  # curl really sent it chunked
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Method"), "POST")
        self.assertEqual(r.header("X-Body-Length"), str(len(data)))
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_expect_100_continue(self):
        data = os.urandom(4096)
        path = self.write_tmp("continue.bin", data)
        r = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@" + path, self.url("/echo"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertIn("Expect: 100-continue", r.stderr)
        self.assertIn("HTTP/1.1 100 Continue", r.stderr)
        self.assertEqual([b[0] for b in r.header_blocks], [100, 200])
        self.assertEqual(r.body, data)

    # ---- methods, routing ----

    def test_head(self):
        r = curl("-I", self.url("/hello"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "5")
        self.assertEqual(r.body.split(b"\r\n\r\n", 1)[-1], b"")
        # The HEAD answer must carry no body: a GET on the same connection right after it must
        # read a clean response (a stray body would be taken for its status line).
        with harness.connect(self.port) as s:
            harness.send(s, harness.request("HEAD", "/hello") + harness.request("GET", "/rooms/h"))
            reader = harness.Reader(s)
            head = reader.read_response(head_request=True)
            self.assertEqual((head.status, head.header("Content-Length")), (200, "5"))
            get = reader.read_response()
            self.assertEqual((get.status, get.body), (200, b"h"))

    def test_not_found(self):
        r = curl(self.url("/no/such/route"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 404)

    def test_method_not_allowed_lists_allow(self):
        r = curl("-X", "DELETE", self.url("/hello"))
        self.assertEqual(r.status, 405)
        allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
        self.assertIn("GET", allow)
        self.assertNotIn("DELETE", allow)
        r = curl("-X", "PUT", "--data-binary", "x", self.url("/small-body"))
        self.assertEqual(r.status, 405)
        self.assertIn("POST", [m.strip() for m in (r.header("Allow") or "").split(",")])

    def test_path_params(self):
        r = curl(self.url("/rooms/lobby"), self.url("/rooms/a%20b"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual([b[0] for b in r.header_blocks], [200, 200])
        self.assertEqual(r.body, b"lobby" + b"a b")
        self.assertEqual(curl(self.url("/rooms/")).status, 404)
        self.assertEqual(curl(self.url("/rooms/a/b")).status, 404)

    def test_query_decoding(self):
        r = curl(self.url("/echo?x=1&q=hello%20world+and%26more&z"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Query"), "hello world and&more")
        self.assertEqual(r.header("X-Method"), "GET")
        r = curl(self.url("/echo?other=1"))
        self.assertIsNone(r.header("X-Query"))

    def test_middleware(self):
        r = curl(self.url("/api/data"))
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.header("X-Middleware"))
        r = curl("-H", "X-Token: wrong", self.url("/api/data"))
        self.assertEqual(r.status, 401)
        r = curl("-H", "X-Token: secret", self.url("/api/data"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Middleware"), "api")
        self.assertEqual(r.body, b'{"ok":true}')
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r.headers)

    def test_handler_exceptions_give_500_and_the_server_keeps_serving(self):
        for path in ("/throw", "/throw-async", "/throw", "/throw-async"):
            r = curl(self.url(path))
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.status, 500, path)
        # Also on one kept-alive connection: the 500 does not break it.
        r = curl("-v", self.url("/throw"), self.url("/throw-async"), self.url("/hello"))
        self.assertEqual([b[0] for b in r.header_blocks], [500, 500, 200])
        self.assertTrue(r.body.endswith(b"hello"))
        self.assertEqual(r.stderr.count("Connected to"), 1, r.stderr)

    # ---- responses ----

    def test_chunked_response_stream(self):
        r = curl("-v", self.url("/stream?n=20"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual((r.header("Transfer-Encoding") or "").lower(), "chunked")
        self.assertIsNone(r.header("Content-Length"))
        self.assertEqual(r.body, b"".join(b"chunk %d\n" % i for i in range(20)))
        # Then the connection is reusable after the terminating chunk.
        r = curl("-v", self.url("/stream?n=2"), self.url("/hello"))
        self.assertEqual(r.body, b"chunk 0\nchunk 1\nhello")
        self.assertEqual(r.stderr.count("Connected to"), 1, r.stderr)

    def test_large_response_intact(self):
        n = 4_000_000
        r = curl(self.url("/big?n=%d" % n))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), str(n))
        self.assertEqual(len(r.body), n)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(big_body(n)).hexdigest())

    # ---- static files ----

    def test_static_file(self):
        r = curl(self.url("/static/data.bin"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, STATIC_BYTES)
        self.assertEqual(r.header("Content-Length"), str(len(STATIC_BYTES)))

    def test_static_files_pipelined(self):
        # A run of file responses (sent with sendfile) mixed with ranges, HEAD and a 304, in order.
        etag = curl(self.url("/static/data.bin")).header("ETag")
        reqs = []
        for i in range(25):
            reqs.append(("GET", [], STATIC_BYTES, 200))
            reqs.append(("GET", [("Range", "bytes=%d-%d" % (i, i + 99))], STATIC_BYTES[i:i + 100], 206))
        reqs += [("HEAD", [], b"", 200), ("GET", [("If-None-Match", etag)], b"", 304), ("GET", [], STATIC_BYTES, 200)]
        with harness.connect(self.port) as s:
            harness.send(s, b"".join(harness.request(m, "/static/data.bin", h) for m, h, _, _ in reqs))
            reader = harness.Reader(s)
            for i, (method, _, body, status) in enumerate(reqs):
                r = reader.read_response(head_request=(method == "HEAD"))
                self.assertEqual(r.status, status, (i, r))
                self.assertTrue(r.body == body, "response %d: wrong bytes" % i)

    def test_static_range(self):
        r = curl("-r", "0-9", self.url("/static/data.bin"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 0-9/%d" % len(STATIC_BYTES))
        self.assertEqual(r.header("Content-Length"), "10")
        self.assertEqual(r.body, STATIC_BYTES[:10])
        r = curl("-r", "100-", self.url("/static/data.bin"))
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, STATIC_BYTES[100:])
        r = curl("-r", "-25", self.url("/static/data.bin"))
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, STATIC_BYTES[-25:])
        r = curl("-r", "%d-" % (len(STATIC_BYTES) + 10), self.url("/static/data.bin"))
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */%d" % len(STATIC_BYTES))

    def test_static_not_modified(self):
        first = curl(self.url("/static/data.bin"))
        etag = first.header("ETag")
        self.assertTrue(etag, first.headers)
        r = curl("-v", "-H", "If-None-Match: " + etag, self.url("/static/data.bin"))
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), etag)
        r = curl("-H", 'If-None-Match: "something-else"', self.url("/static/data.bin"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, STATIC_BYTES)


if __name__ == "__main__":
    harness.run_tests()
