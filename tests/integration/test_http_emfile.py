"""Accept errors: a server out of file descriptors (EMFILE) logs it, keeps serving the connections it
has, and accepts again once descriptors are free."""
import shutil
import time
import unittest

from harness import (ServerProcess, TEST_SERVER, connect, exchange, read_response, request,
                     require_binary, run_tests, send)

FD_LIMIT = 64


class EmfileTest(unittest.TestCase):
    def test_survives_running_out_of_descriptors(self):
        require_binary(TEST_SERVER, "HERALD_TEST_SERVER")
        prlimit = shutil.which("prlimit")
        self.assertIsNotNone(prlimit, "prlimit (util-linux) is needed")
        server = ServerProcess([prlimit, "--nofile=%d:%d" % (FD_LIMIT, FD_LIMIT), TEST_SERVER,
                                "--threads", "1", "--log-level", "warn"])
        try:
            server.wait_port_line()
            port = server.port
            kept = connect(port)
            send(kept, request("GET", "/hello"))
            self.assertEqual(read_response(kept).status, 200)

            flood = [connect(port) for _ in range(FD_LIMIT + 40)]
            deadline = time.monotonic() + 10
            while "accept failed" not in server.stderr() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("accept failed", server.stderr())

            # The connection it already had is still served while accepts are failing.
            send(kept, request("GET", "/hello"))
            self.assertEqual(read_response(kept).status, 200)
            self.assertIsNone(server.proc.poll(), "the server died:\n" + server.stderr())

            for s in flood:
                s.close()
            # Once descriptors are free again, new clients are accepted and served.
            deadline = time.monotonic() + 15
            status = None
            while time.monotonic() < deadline:
                try:
                    status = exchange(port, request("GET", "/hello", headers=[("Connection", "close")]),
                                      timeout=2).status
                    break
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(status, 200)
            kept.close()
            self.assertEqual(server.stop(), 0, server.stderr())
        finally:
            server.close()


if __name__ == "__main__":
    run_tests()
