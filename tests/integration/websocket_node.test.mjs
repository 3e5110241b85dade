// WebSocket server against a client we did not write: node `ws` (tests/integration/package.json).
// Echo across the length encodings up to 16 MiB, fragmented sends, ping and pong, close codes both
// ways, subprotocols, origins, the size limit and invalid UTF-8; against tests/support/test_server.
// Run by ctest as `node --test websocket_node.test.mjs` with HERALD_TEST_SERVER set.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { IO_TIMEOUT, requireModule, withTimeout, startServer } from './support.mjs';

const MiB = 1024 * 1024;
const LIMIT = 16 * MiB;  // the server's default max_message_bytes
const SIZES = [0, 125, 126, 65535, 65536, LIMIT];

// ---- a ws client with a message queue ----

const { default: WebSocket } = await requireModule('ws');

let server;

// Opens a client; messages and the close are queued so a test can await them in order.
function open(path, { protocols, ...options } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols, {
    handshakeTimeout: IO_TIMEOUT,
    ...options,
  });
  const queue = [];
  const waiters = [];
  const push = (item) => {
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  };
  ws.on('message', (data, isBinary) => push({ data, isBinary }));
  ws.errors = [];
  ws.on('error', (e) => ws.errors.push(e));
  ws.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      ws.closedAt = Date.now();
      resolve({ code, reason: reason.toString() });
      push({ closed: true, code, reason: reason.toString() });
    });
  });
  // The next message, or a failure when the connection closed first.
  ws.next = (ms = IO_TIMEOUT) => withTimeout(new Promise((resolve) => {
    const item = queue.shift();
    if (item) resolve(item);
    else waiters.push(resolve);
  }).then((item) => {
    if (item.closed) throw new Error(`closed (${item.code} ${item.reason}) while waiting for a message`);
    return item;
  }), ms, `a message on ${path}`);
  // The close event: { code, reason }, after any messages still queued.
  ws.nextClose = (ms = IO_TIMEOUT) => withTimeout(ws.closed, ms, `the close of ${path}`);
  return ws;
}

async function opened(path, options) {
  const ws = open(path, options);
  await withTimeout(once(ws, 'open'), IO_TIMEOUT, `the handshake of ${path}`);
  return ws;
}

// The HTTP status of a refused handshake.
async function refusedStatus(path, options) {
  const ws = open(path, options);
  const status = await withTimeout(new Promise((resolve, reject) => {
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode);
      res.resume();
      req.destroy();
    });
    ws.on('open', () => reject(new Error(`${path} upgraded although it should refuse`)));
  }), IO_TIMEOUT, `the refusal of ${path}`);
  return status;
}

// A string whose UTF-8 encoding is exactly n bytes, with 1- to 4-byte characters.
function textOf(n) {
  const unit = 'aé€😀';  // 1 + 2 + 3 + 4 bytes
  const s = unit.repeat(Math.floor(n / 10));
  return s + 'z'.repeat(n - Buffer.byteLength(s));
}

before(async () => {
  server = await startServer('--threads', 2);
});

after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, `test server exited with ${code} on SIGTERM\n${server.stderr}`);
});

function assertServerAlive() {
  assert.ok(server.alive(), `the server process died:\n${server.stderr}`);
}

describe('node ws client', { timeout: 180_000 }, () => {
  test('echoes text and binary of every length encoding, up to 16 MiB', async () => {
    const ws = await opened('/ws/echo', { maxPayload: 2 * LIMIT });
    for (const n of SIZES) {
      const text = textOf(n);
      assert.equal(Buffer.byteLength(text), n);
      ws.send(text);
      const t = await ws.next(60_000);
      assert.equal(t.isBinary, false, `text of ${n} bytes came back as binary`);
      assert.equal(t.data.length, n);
      assert.ok(t.data.toString('utf8') === text, `text of ${n} bytes changed in the echo`);

      const bytes = crypto.randomBytes(n);
      ws.send(bytes);
      const b = await ws.next(60_000);
      assert.equal(b.isBinary, true, `binary of ${n} bytes came back as text`);
      assert.equal(b.data.length, n);
      assert.ok(b.data.equals(bytes), `binary of ${n} bytes changed in the echo`);
    }
    ws.close(1000);
    assert.equal((await ws.nextClose()).code, 1000);
    assertServerAlive();
  });

  test('the callback route answers text with a prefix and echoes binary', async () => {
    const ws = await opened('/ws/callbacks');
    ws.send('héllo');
    const t = await ws.next();
    assert.deepEqual([t.isBinary, t.data.toString()], [false, 'text:héllo']);
    ws.send(Buffer.from([0, 255, 1]));
    const b = await ws.next();
    assert.equal(b.isBinary, true);
    assert.deepEqual([...b.data], [0, 255, 1]);
    ws.close();
    await ws.nextClose();
  });

  test('fragmented sends are reassembled and echoed as one message', async () => {
    const ws = await opened('/ws/echo');
    // Text: first frame text, then continuations; the last has FIN.
    for (const part of ['Hel', 'lo, ', 'wörld', ' ']) ws.send(part, { fin: false });
    ws.send('😀', { fin: true });
    const t = await ws.next();
    assert.equal(t.isBinary, false);
    assert.equal(t.data.toString(), 'Hello, wörld 😀');

    // Binary, including an empty fragment and one over 64 KiB.
    const parts = [Buffer.from([1, 2]), Buffer.alloc(0), crypto.randomBytes(70_000), Buffer.from([255])];
    parts.forEach((p, i) => ws.send(p, { binary: true, fin: i === parts.length - 1 }));
    const b = await ws.next();
    assert.equal(b.isBinary, true);
    assert.ok(b.data.equals(Buffer.concat(parts)), 'the reassembled binary message differs');

    // A message after the fragmented ones starts clean.
    ws.send('whole');
    assert.equal((await ws.next()).data.toString(), 'whole');
    ws.close();
    await ws.nextClose();
  });

  test('a ping is answered with a pong carrying the same payload', async () => {
    const ws = await opened('/ws/echo');
    for (const payload of [Buffer.from('payload-123'), crypto.randomBytes(125), Buffer.alloc(0)]) {
      const pong = withTimeout(once(ws, 'pong'), IO_TIMEOUT, 'a pong');
      ws.ping(payload);
      const [data] = await pong;
      assert.ok(Buffer.from(data).equals(payload), `pong payload ${data.toString('hex')} != ${payload.toString('hex')}`);
    }
    ws.close();
    await ws.nextClose();
  });

  for (const [code, reason] of [[1000, 'normal bye'], [4001, 'custom reason ✓']]) {
    test(`a client close with ${code} is echoed and the server closes TCP`, async () => {
      const ws = await opened('/ws/echo');
      const start = Date.now();
      ws.close(code, reason);
      const closed = await ws.nextClose();
      assert.equal(closed.code, code, "the server's Close must echo the code");
      // 'close' fires once TCP is closed: at once by the server, or by ws after its 30 s close timeout.
      assert.ok(ws.closedAt - start < 3000, `TCP closed only after ${ws.closedAt - start} ms`);
      assert.deepEqual(ws.errors, []);
    });
  }

  test('a server-initiated close arrives with 4000 and its reason', async () => {
    const ws = await opened('/ws/push-close');
    const m = await ws.next();
    assert.deepEqual([m.isBinary, m.data.toString()], [false, 'pushed by the server']);
    const closed = await ws.nextClose();
    assert.deepEqual(closed, { code: 4000, reason: 'bye from the server' });
    assert.deepEqual(ws.errors, []);
  });

  test('subprotocol negotiation follows the server preference', async () => {
    const cases = [[['chat.v1', 'chat.v2'], 'chat.v2'], [['chat.v1'], 'chat.v1'], [['other', 'chat.v1'], 'chat.v1']];
    for (const [offered, chosen] of cases) {
      const ws = await opened('/ws/chat', { protocols: offered, origin: 'http://allowed.test' });
      assert.equal(ws.protocol, chosen, `offered ${offered}`);
      ws.send(`over ${chosen}`);
      assert.equal((await ws.next()).data.toString(), `over ${chosen}`);
      ws.close();
      await ws.nextClose();
    }
  });

  test('a foreign or missing origin is refused with 403', async () => {
    assert.equal(await refusedStatus('/ws/chat', { protocols: ['chat.v2'], origin: 'http://evil.test' }), 403);
    assert.equal(await refusedStatus('/ws/chat', { protocols: ['chat.v2'] }), 403);
    assertServerAlive();
  });

  test('a message over 16 MiB is closed with 1009', async () => {
    const ws = await opened('/ws/echo', { maxPayload: 2 * LIMIT });
    ws.send(Buffer.alloc(LIMIT + 1, 7));
    const closed = await ws.nextClose(30_000);
    assert.equal(closed.code, 1009, `closed with ${closed.code} (${ws.errors.map(String)})`);
    assertServerAlive();
  });

  test('a fragmented message over 16 MiB is closed with 1009', async () => {
    const ws = await opened('/ws/echo');
    ws.send(Buffer.alloc(8 * MiB), { fin: false });
    ws.send(Buffer.alloc(8 * MiB), { fin: false });
    ws.send(Buffer.alloc(1), { fin: true });
    const closed = await ws.nextClose(30_000);
    assert.equal(closed.code, 1009, `closed with ${closed.code} (${ws.errors.map(String)})`);
  });

  test('invalid UTF-8 in a text message is closed with 1007', async () => {
    for (const bytes of [[0xff], [0x63, 0x61, 0x66, 0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const ws = await opened('/ws/echo');
      // A Buffer with binary: false goes out as a text frame, unchecked: a broken client.
      ws.send(Buffer.from(bytes), { binary: false });
      const closed = await ws.nextClose();
      assert.equal(closed.code, 1007, `bytes ${bytes}: closed with ${closed.code}`);
    }
    // Split across fragments: the first holds a valid prefix of a 3-byte character, the next breaks it.
    const ws = await opened('/ws/echo');
    ws.send(Buffer.from([0x65, 0xe2, 0x82]), { binary: false, fin: false });
    ws.send(Buffer.from([0x28]), { binary: false, fin: false });
    const closed = await ws.nextClose();
    assert.equal(closed.code, 1007);
    assertServerAlive();
  });

  test('the server still serves new clients', async () => {
    const ws = await opened('/ws/echo');
    ws.send('last');
    assert.equal((await ws.next()).data.toString(), 'last');
    ws.close();
    await ws.nextClose();
  });
});
