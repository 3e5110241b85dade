"""Shared support for Herald's integration tests (Python standard library only).

- ServerProcess: starts a server binary with flags, waits for its "port N" line (or for the port to
  accept connections), stops it with a signal and reports its exit code; every process started here is
  killed when the interpreter exits (atexit), and stays in the test's process group for ctest to kill.
- Raw sockets: connect(), send(), read_response() with a tiny HTTP/1.1 response parser (Content-Length,
  chunked, read-until-close, HEAD and 1xx/204/304 without body), read_until_close() and wait_closed().
- curl(): runs curl against loopback and returns status, headers and body.

Everything is bounded by timeouts and talks to 127.0.0.1 or ::1 only.
"""

import atexit
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

# Timeouts are generous on purpose: CI runs the same tests under ASan/UBSan, on shared machines.
READY_TIMEOUT = 30.0      # a server must print "port N" (or accept) within this
IO_TIMEOUT = 10.0         # one response must arrive within this
STOP_TIMEOUT = 15.0       # a stopped server must exit within this

TEST_SERVER = os.environ.get("HERALD_TEST_SERVER", "")
HERALD_BIN = os.environ.get("HERALD_BIN", "")
SOURCE_DIR = os.environ.get("HERALD_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

_live_processes = []
_live_lock = threading.Lock()


def _kill_all():
    with _live_lock:
        procs = list(_live_processes)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(_kill_all)


def require_binary(path, env_name):
    """Fails (does not skip) when a binary the tests need is missing: a broken build must not pass."""
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("%s is not set to an executable (got %r); run through ctest" % (env_name, path))


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (for programs that need --port before they start)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class ServerProcess:
    """A server process. Its stdout lines are collected by a thread; stderr goes to a file."""

    def __init__(self, argv, env=None):
        self.argv = [str(a) for a in argv]
        self.port = None
        self.lines = queue.Queue()
        self.stdout_lines = []
        self._stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr_file, env=env)
        with _live_lock:
            _live_processes.append(self.proc)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stdout_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)  # EOF

    def wait_line(self, predicate, timeout):
        """The first stdout line (not yet consumed) for which predicate holds, or None at EOF/timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put(None)
                return None
            if predicate(line):
                return line

    def wait_port_line(self, timeout=READY_TIMEOUT):
        line = self.wait_line(lambda l: l.startswith("port "), timeout)
        if line is None:
            raise AssertionError("server did not print 'port N' within %.0fs: %s\nstderr:\n%s"
                                 % (timeout, self.argv, self.stderr()))
        self.port = int(line.split()[1])
        return self.port

    def wait_accepting(self, port, host="127.0.0.1", timeout=READY_TIMEOUT):
        """Polls until `port` accepts a connection; fails early when the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %s before listening: %s\nstderr:\n%s"
                                     % (self.proc.returncode, self.argv, self.stderr()))
            try:
                with socket.create_connection((host, port), timeout=1.0):
                    self.port = port
                    return port
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not accept on %s:%d within %.0fs" % (host, port, timeout))

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Exit code, or None when the process is still running after `timeout`."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Graceful stop; kills when it does not exit in time. Returns the exit code (or None if killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stdout_lines_after_exit(self, timeout=5):
        """Every stdout line, once the reader thread has seen EOF (call after the process exited)."""
        self._reader.join(timeout)
        return list(self.stdout_lines)

    def stderr(self):
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode("utf-8", "replace")

    def close(self):
        self.kill()
        self._reader.join(timeout=5)
        try:
            self.proc.stdout.close()
        except Exception:
            pass
        self._stderr_file.close()


def start_test_server(*flags, ready_timeout=READY_TIMEOUT):
    """Starts tests/support/test_server with flags ("--threads", 2, ...) and waits for its port."""
    require_binary(TEST_SERVER, "HERALD_TEST_SERVER")
    s = ServerProcess([TEST_SERVER] + list(flags))
    try:
        s.wait_port_line(ready_timeout)
    except BaseException:
        s.close()
        raise
    return s


class ServerTestCase(unittest.TestCase):
    """Starts one test server per test class with FLAGS; checks it is still alive after each test."""

    FLAGS = ()

    @classmethod
    def setUpClass(cls):
        cls.server = start_test_server(*cls.FLAGS)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        err = cls.server.stderr()
        cls.server.close()
        if rc != 0:
            raise AssertionError("test server exited with %r on SIGTERM\nstderr:\n%s" % (rc, err))

    def assertServerAlive(self):
        self.assertIsNone(self.server.proc.poll(),
                          "the server process died:\n" + self.server.stderr())

    def url(self, path, host="127.0.0.1"):
        h = "[%s]" % host if ":" in host else host
        return "http://%s:%d%s" % (h, self.port, path)


def start_serve(*flags, attempts=3):
    """`herald serve` with flags on a free loopback port; retries when another process took the port first."""
    require_binary(HERALD_BIN, "HERALD_BIN")
    last = None
    for _ in range(attempts):
        port = free_port()
        p = ServerProcess([HERALD_BIN, "serve", "--host", "127.0.0.1", "--port", port, "--threads", 2] + list(flags))
        try:
            p.wait_accepting(port)
            return p
        except AssertionError as e:
            last = e
            p.close()
    raise last


class HeraldServeTestCase(unittest.TestCase):
    """One `herald serve` (with FLAGS) per test class, stopped with SIGINT, which must exit 0."""

    FLAGS = ()

    @classmethod
    def setUpClass(cls):
        cls.server = start_serve(*cls.FLAGS)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop(signal.SIGINT)
        err = cls.server.stderr()
        cls.server.close()
        if rc != 0:
            raise AssertionError("herald serve exited with %r on SIGINT\nstderr:\n%s" % (rc, err))

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


# ---------------------------------------------------------------------------------------------
# Raw sockets

def connect(port, host="127.0.0.1", timeout=IO_TIMEOUT, nodelay=True):
    assert host in ("127.0.0.1", "::1"), "integration tests talk to loopback only"
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def send(sock, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    sock.sendall(data)


def send_tolerant(sock, data):
    """Sends, ignoring a peer that already answered and stopped reading (reset / broken pipe)."""
    try:
        send(sock, data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def request(method, target, headers=None, body=b"", version="HTTP/1.1", host="test"):
    """Bytes of one request. headers: list of (name, value); Host is added unless host is None."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    for name, value in headers or []:
        lines.append("%s: %s" % (name, value))
    if isinstance(body, str):
        body = body.encode()
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def has_token(self, name, token):
        return any(token.lower() == t.strip().lower()
                   for v in self.header_all(name) for t in v.split(","))

    @property
    def closes(self):
        return self.has_token("Connection", "close")

    def __repr__(self):
        return "<Response %d %s headers=%r body[%d]=%r>" % (
            self.status, self.reason, self.headers, len(self.body), self.body[:80])


class ConnectionClosed(Exception):
    """The peer closed before a whole response arrived; .data holds what did arrive."""

    def __init__(self, message, data=b""):
        super().__init__(message)
        self.data = data


class Reader:
    """Reads responses from one socket, keeping bytes that belong to the next (pipelined) response."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no complete response before the deadline; have %r" % self.buf[:200])
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _need(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ConnectionClosed("closed after %d of %d bytes" % (len(self.buf), n), self.buf)

    def _line(self, deadline):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            if not self._fill(deadline):
                raise ConnectionClosed("closed inside a line", self.buf)

    def read_response(self, head_request=False, timeout=IO_TIMEOUT, skip_interim=True):
        """One whole response. HEAD answers (head_request=True), 1xx, 204 and 304 have no body."""
        deadline = time.monotonic() + timeout
        while True:
            r = self._read_one(head_request, deadline)
            if skip_interim and 100 <= r.status < 200:
                continue
            return r

    def _read_one(self, head_request, deadline):
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise ConnectionClosed("closed before a response head", self.buf)
        i = self.buf.index(b"\r\n\r\n")
        raw_head, self.buf = self.buf[:i], self.buf[i + 4:]
        lines = raw_head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError("bad status line %r" % lines[0])
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise AssertionError("bad header line %r" % line)
            headers.append((name, value.strip()))
        r = Response(version, status, reason, headers, b"", raw_head)
        if head_request or 100 <= status < 200 or status in (204, 304):
            return r
        if r.has_token("Transfer-Encoding", "chunked"):
            r.body = self._read_chunked(deadline)
        elif r.header("Content-Length") is not None:
            n = int(r.header("Content-Length"))
            self._need(n, deadline)
            r.body, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self._fill(deadline):
                pass
            r.body, self.buf = self.buf, b""
        return r

    def _read_chunked(self, deadline):
        body = b""
        while True:
            size_line = self._line(deadline)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self._line(deadline) != b"":  # trailers
                    pass
                return body
            self._need(size + 2, deadline)
            if self.buf[size:size + 2] != b"\r\n":
                raise AssertionError("chunk data not followed by CRLF")
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]

    def read_until_close(self, timeout=IO_TIMEOUT):
        """(bytes, closed): everything until EOF/reset; closed is False when the deadline came first."""
        deadline = time.monotonic() + timeout
        closed = False
        try:
            while not self.eof and self._fill(deadline):
                pass
            closed = True
        except (socket.timeout, TimeoutError):
            closed = False
        except ConnectionResetError:
            closed = True
        data, self.buf = self.buf, b""
        return data, closed


def read_response(sock, head_request=False, timeout=IO_TIMEOUT):
    """One response from a socket used for one exchange (extra bytes are dropped)."""
    return Reader(sock).read_response(head_request=head_request, timeout=timeout)


def wait_closed(sock, timeout=IO_TIMEOUT):
    """(extra_bytes, seconds_until_closed or None when still open at the deadline)."""
    start = time.monotonic()
    data, closed = Reader(sock).read_until_close(timeout)
    return data, (time.monotonic() - start) if closed else None


def exchange(port, raw, head_request=False, timeout=IO_TIMEOUT, host="127.0.0.1"):
    """Sends `raw` on a fresh connection and returns the one response."""
    with connect(port, host=host, timeout=timeout) as s:
        send(s, raw)
        return read_response(s, head_request=head_request, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# curl

CURL = shutil.which("curl") or "/usr/bin/curl"


def _no_proxy_env():
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "*"
    return env


class CurlResult:
    def __init__(self, rc, status, headers, body, stderr, header_blocks):
        self.rc = rc
        self.status = status
        self.headers = headers        # the final response's (name, value) list
        self.body = body
        self.stderr = stderr          # -v output lands here
        self.header_blocks = header_blocks  # every response head curl saw (1xx, several URLs)

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def __repr__(self):
        return "<curl rc=%d status=%s headers=%r body[%d]>" % (self.rc, self.status, self.headers, len(self.body))


def curl(*args, timeout=30):
    """Runs curl with args (URLs included). Heads go to a file; the bodies of every URL, concatenated,
    are the result's body (curl's stdout)."""
    with tempfile.TemporaryDirectory() as d:
        hfile = os.path.join(d, "h")
        argv = [CURL, "-sS", "--noproxy", "*", "--max-time", str(timeout), "-D", hfile] + list(args)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout + 10, env=_no_proxy_env())
        raw = ""
        if os.path.exists(hfile):
            with open(hfile, "rb") as f:
                raw = f.read().decode("latin-1")
        body = p.stdout
    blocks = []
    for block in raw.split("\r\n\r\n"):
        lines = [l for l in block.split("\r\n") if l]
        if not lines:
            continue
        parts = lines[0].split(" ", 2)
        hdrs = []
        for l in lines[1:]:
            n, _, v = l.partition(":")
            hdrs.append((n, v.strip()))
        blocks.append((int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None, hdrs, lines[0]))
    status, headers = (blocks[-1][0], blocks[-1][1]) if blocks else (None, [])
    return CurlResult(p.returncode, status, headers, body, p.stderr.decode("utf-8", "replace"), blocks)


def run_tests():
    """unittest.main(): exits non-zero when a test fails or errors (skips do not fail)."""
    unittest.main(verbosity=2)
