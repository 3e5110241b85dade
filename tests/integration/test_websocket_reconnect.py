"""Seed 003's connection-loss strategy end to end: a ReconnectingWebSocket (tests/support/ws_client_check
requests) sends 1,000 acknowledged requests to the test server's /ws/requests (a Deduplicator) through a
TCP proxy that cuts the connection with a reset in the middle of the stream, again and again. Every
request must be processed exactly once and every answer must arrive."""

import os
import random
import socket
import struct
import subprocess
import sys
import threading
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CLIENT = os.environ.get("HERALD_TEST_WS_CLIENT", "")


class CuttingProxy:
    """Forwards loopback TCP to `upstream_port`; each of the first `cuts` connections is reset once it has
    carried a random 600–2,000 bytes from the server (a frame may be cut in half)."""

    def __init__(self, upstream_port, cuts, seed=7):
        self.upstream_port = upstream_port
        self.cuts_left = cuts
        self.cuts_done = 0
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                budget = self.rng.randint(600, 2000) if self.cuts_left > 0 else None
                if budget is not None:
                    self.cuts_left -= 1
            threading.Thread(target=self._serve, args=(client, budget), daemon=True).start()

    @staticmethod
    def _reset(*socks):
        # SHUT_RD wakes the other pump's recv() (a close() alone would not release a socket another
        # thread is blocked on, and no reset would be sent); with linger 0 the close then sends RST.
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def _serve(self, client, budget):
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        done = threading.Event()

        def pump(src, dst, limited):
            nonlocal budget
            try:
                while not done.is_set():
                    data = src.recv(65536)
                    if not data:
                        break
                    if limited and budget is not None:
                        if len(data) >= budget:
                            dst.sendall(data[:budget])
                            with self.lock:
                                self.cuts_done += 1
                            break
                        budget -= len(data)
                    dst.sendall(data)
            except OSError:
                pass
            done.set()
            self._reset(client, upstream)

        threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
        pump(upstream, client, True)

    def close(self):
        self.running = False
        self.sock.close()


class ReconnectTest(harness.ServerTestCase):
    def stats(self):
        with urllib.request.urlopen(self.url("/requests/stats"), timeout=harness.IO_TIMEOUT) as r:
            words = r.read().decode().split()
        return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}

    def test_thousand_requests_exactly_once_through_cut_connections(self):
        harness.require_binary(CLIENT, "HERALD_TEST_WS_CLIENT")
        proxy = CuttingProxy(self.port, cuts=8)
        self.addCleanup(proxy.close)
        r = subprocess.run([CLIENT, "requests", "ws://127.0.0.1:%d/ws/requests" % proxy.port, "1000"],
                           capture_output=True, timeout=120)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, r.stderr.decode() + out)
        answered = [line for line in out.splitlines() if line.startswith("answered")]
        self.assertEqual(len(answered), 1, out)
        connections = int(answered[0].split()[3])
        self.assertEqual(proxy.cuts_done, 8)
        self.assertGreaterEqual(connections, 9, "every cut must have been followed by a reconnect")
        self.assertIn("state reconnecting", out)
        stats = self.stats()
        # Exactly once: 1,000 distinct payloads, each processed once; resends after a cut got cached answers.
        self.assertEqual(stats["processed"], 1000, stats)
        self.assertEqual(stats["distinct"], 1000, stats)
        self.assertEqual(stats["max_per_payload"], 1, stats)
        self.assertEqual(stats["expired"], 0, stats)
        self.assertGreater(stats["duplicates"], 0, "the cuts must have lost some answers: %r" % stats)
        self.assertServerAlive()


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
