// WebSocket server against a browser: Debian's headless Chromium (/usr/bin/chromium) driven by
// playwright-core (tests/integration/package.json). The page tests/integration/pages/websocket.html is
// served by the test server itself (--static), so its WebSockets are same-host http-origin ones.
// Run by ctest as `node --test websocket_chromium.test.mjs` with HERALD_TEST_SERVER set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestPage } from './support.mjs';

let server;
let page;
let inPage;
let closePage;

before(async () => {
  ({ server, page, inPage, close: closePage } = await openTestPage('websocket.html'));
});

after(async () => {
  if (closePage) await closePage();
});

describe('headless Chromium', { timeout: 180_000 }, () => {
  test('the page is ours, from the test server', async () => {
    assert.equal(await page.title(), 'Herald WebSocket test page');
    assert.equal(await page.evaluate(() => location.origin), `http://127.0.0.1:${server.port}`);
  });

  test('echoes text and binary ArrayBuffers', async () => {
    const texts = ['hello from Chromium', '', 'wörld ✓ 😀', 'x'.repeat(70_000)];
    const binaries = [[0, 1, 2, 253, 254, 255], [], Array.from({ length: 300 }, (_, i) => (i * 13) % 256)];
    const r = await inPage('echoTest', texts, binaries);
    assert.equal(r.opened, true, 'the WebSocket did not open');
    assert.equal(r.protocol, '');
    assert.equal(r.extensions, '', 'no extension was negotiated, whatever the browser offered');
    assert.deepEqual(r.texts, texts.map((text) => ({ kind: 'text', text })));
    assert.deepEqual(r.binaries, binaries.map((bytes) => ({ kind: 'arraybuffer', bytes })));
    assert.deepEqual(r.close, { kind: 'close', code: 1000, reason: '', wasClean: true });
  });

  test('echoes a 1 MiB binary message', async () => {
    const r = await inPage('bigBinaryEcho', 1024 * 1024);
    assert.deepEqual(r, { opened: true, length: 1024 * 1024, same: true });
  });

  test('receives a server push, then the server close 4000 with its reason', async () => {
    const r = await inPage('pushCloseTest');
    assert.equal(r.opened, true);
    assert.deepEqual(r.first, { kind: 'text', text: 'pushed by the server' });
    assert.deepEqual(r.second, { kind: 'close', code: 4000, reason: 'bye from the server', wasClean: true });
  });

  test('a page close with 4001 is echoed by the server', async () => {
    const r = await inPage('clientCloseTest', 4001, 'page leaves');
    assert.equal(r.opened, true);
    assert.equal(r.close.kind, 'close');
    assert.equal(r.close.code, 4001);
    assert.equal(r.close.wasClean, true);
  });

  test('the page origin is refused where only another origin is allowed', async () => {
    const r = await inPage('refusedOriginTest');
    assert.equal(r.opened, false, '/ws/chat accepted the page origin');
    assert.deepEqual(r.events.map((e) => e.kind), ['error', 'close']);
    assert.equal(r.events[1].code, 1006);
  });

  test('the server is still alive and serving', async () => {
    assert.ok(server.alive(), `the server process died:\n${server.stderr}`);
    const r = await inPage('echoTest', ['again'], []);
    assert.deepEqual(r.texts, [{ kind: 'text', text: 'again' }]);
  });
});
