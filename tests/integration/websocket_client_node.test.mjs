// Our WebSocket client (tests/support/ws_client_check and `herald ws`) against a server we did not
// write: node `ws`'s WebSocketServer. Echo across the length encodings up to 16 MiB, fragmented
// messages, server pings, server-initiated close codes, and the pipe mode of `herald ws`.
// Run by ctest as `node --test websocket_client_node.test.mjs` with HERALD_TEST_WS_CLIENT and HERALD_BIN set.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { IO_TIMEOUT, requireModule, withTimeout } from './support.mjs';

const { WebSocketServer } = await requireModule('ws');
const RUN_TIMEOUT = 120_000;

// Runs a program to its end: { code, stdout, stderr }.
function run(bin, args, input) {
  if (!bin) throw new Error('HERALD_TEST_WS_CLIENT / HERALD_BIN are not set; run through ctest');
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: RUN_TIMEOUT, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}
const client = (...args) => run(process.env.HERALD_TEST_WS_CLIENT, args);
const heraldWs = (input, ...args) => run(process.env.HERALD_BIN, ['ws', ...args], input);

let wss;
let onConnection = () => {};
const url = (path = '/') => `ws://127.0.0.1:${wss.address().port}${path}`;

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
  wss.on('connection', (ws, req) => onConnection(ws, req));
  await once(wss, 'listening');
});

after(async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

const echo = (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));

describe('herald client against node ws', () => {
  test('echo of every length encoding up to 16 MiB, text and binary, and a burst', async () => {
    onConnection = echo;
    const r = await client('echo', url('/echo'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /echoed 1022 messages/);
    assert.match(r.stdout, /closed 1000/);
  });

  test('fragmented messages, a server ping answered, then the server closes with 4003', async () => {
    let pong;
    let reply;
    onConnection = (ws) => {
      ws.send('frag1', { fin: false });
      ws.send('frag2', { fin: false });
      ws.send('frag3', { fin: true });
      ws.send(Buffer.alloc(70000, 7), { binary: true, fin: false });
      ws.send(Buffer.alloc(2, 7), { binary: true, fin: true });
      pong = new Promise((resolve) => ws.once('pong', (data) => resolve(data.toString())));
      ws.ping('hb');
      ws.once('message', (data) => { reply = data.toString(); ws.close(4003, 'node done'); });
      ws.send('echo-me');
    };
    const r = await client('listen', url());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^text 15 frag1frag2frag3$/m);
    assert.match(r.stdout, /^binary 70002$/m);
    assert.match(r.stdout, /^ping hb$/m);
    assert.match(r.stdout, /^closed 4003 node done$/m);
    assert.equal(await withTimeout(pong, IO_TIMEOUT, 'pong'), 'hb');
    assert.equal(reply, 'echoed');
  });

  test('server-initiated close codes reach the client', async () => {
    for (const code of [1000, 1001, 1011, 4999]) {
      onConnection = (ws) => ws.close(code, `code ${code}`);
      const r = await client('listen', url());
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^closed ${code} code ${code}$`, 'm'));
    }
  });

  test('the client close code reaches the server', async () => {
    const closed = new Promise((resolve) => {
      onConnection = (ws) => ws.on('close', (code, reason) => resolve([code, reason.toString()]));
    });
    const r = await client('close', url(), '4010');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await withTimeout(closed, IO_TIMEOUT, 'close at the server'), [4010, 'bye']);
  });

  test('herald ws in a pipe: lines sent, replies printed, exit 0', async () => {
    onConnection = echo;
    const r = await heraldWs('one\ntwo\n', url());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\n');
  });

  test('herald ws --echo sends every message back until the server closes', async () => {
    const got = [];
    onConnection = (ws) => {
      ws.on('message', (data, isBinary) => {
        got.push(isBinary ? [...data] : data.toString());
        if (got.length === 2) ws.close(1000);
      });
      ws.send('hello');
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
    };
    const r = await heraldWs(undefined, '--echo', url());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(got, ['hello', [1, 2, 3]]);
  });
});
