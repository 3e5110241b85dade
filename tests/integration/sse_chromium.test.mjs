// Server-Sent Events against a browser: Debian's headless Chromium (/usr/bin/chromium) driven by
// playwright-core (tests/integration/package.json). The page tests/integration/pages/sse.html is served
// by the test server itself (--static), so its EventSources are same-origin; the stream routes are in
// tests/support/sse_routes.cpp. Run by ctest as `node --test sse_chromium.test.mjs` with
// HERALD_TEST_SERVER set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep, openTestPage } from './support.mjs';

let server;
let page;
let inPage;
let closePage;

before(async () => {
  ({ server, page, inPage, close: closePage } = await openTestPage('sse.html'));
});

after(async () => {
  if (closePage) await closePage();
});

// What the route saw: how many requests with this tag, and each one's Last-Event-ID ("(none)" if absent).
async function requestsSeen(tag) {
  const r = await fetch(`http://127.0.0.1:${server.port}/sse/requests?tag=${encodeURIComponent(tag)}`);
  assert.equal(r.status, 200);
  const [count, ...ids] = (await r.text()).split('\n').filter((line, i, all) => i < all.length - 1);
  return { count: Number(count), ids };
}

const events = (entries) => entries.filter((e) => e.kind === 'event')
  .map(({ type, data, lastEventId }) => ({ type, data, lastEventId }));

describe('headless Chromium EventSource', { timeout: 180_000 }, () => {
  test('the page is ours, from the test server', async () => {
    assert.equal(await page.title(), 'Herald SSE test page');
    assert.equal(await page.evaluate(() => location.origin), `http://127.0.0.1:${server.port}`);
  });

  test('parses named events, ids, multi-line data and comments as sent', async () => {
    const r = await inPage('basicTest');
    assert.equal(r.readyState, 2);
    assert.deepEqual(r.entries.map(({ type, data, lastEventId }) => ({ type, data, lastEventId })), [
      { type: 'message', data: 'hello', lastEventId: '' },
      { type: 'news', data: 'first', lastEventId: '1' },
      { type: 'message', data: 'a\nb\nc\nd', lastEventId: '1' },
      { type: 'multi', data: 'line 1\nline 2\n', lastEventId: '2' },
      // The comment and the unknown "custom" field dispatch nothing; a named event with empty data does.
      { type: 'bye', data: '', lastEventId: '3' },
    ]);
  });

  test('reconnects by itself after the server closes, sending Last-Event-ID', async () => {
    const tag = 'reconnect';
    const r = await inPage('reconnectTest', tag);
    assert.equal(r.readyState, 2);
    assert.deepEqual(events(r.entries), [
      { type: 'hello', data: 'request 1 last-event-id []', lastEventId: '' },
      { type: 'news', data: 'news 1', lastEventId: 'reconnect-1-1' },
      { type: 'message', data: 'plain 1', lastEventId: 'reconnect-1-2' },
      // The route echoes the Last-Event-ID the browser sent: the last id it had seen.
      { type: 'hello', data: 'request 2 last-event-id [reconnect-1-2]', lastEventId: 'reconnect-1-2' },
      { type: 'news', data: 'news 2', lastEventId: 'reconnect-2-1' },
      { type: 'message', data: 'plain 2', lastEventId: 'reconnect-2-2' },
    ]);
    // open, the events, an error with readyState CONNECTING (0) at the server's close, open again.
    const kinds = r.entries.map((e) => (e.kind === 'event' ? e.type : `${e.kind}:${e.readyState}`));
    assert.deepEqual(kinds, ['open:1', 'hello', 'news', 'message', 'error:0', 'open:1', 'hello', 'news', 'message']);
    // retry: 200 was honoured (Chromium's default is 3 s).
    const error = r.entries.find((e) => e.kind === 'error');
    const reopened = r.entries.filter((e) => e.kind === 'open')[1];
    assert.ok(reopened.t - error.t >= 150, `reconnected after ${reopened.t - error.t} ms, before the retry time`);
    assert.ok(reopened.t - error.t < 2500, `reconnected after ${reopened.t - error.t} ms: retry ignored`);
    // Two requests, the second with Last-Event-ID; the page's close() stopped a third.
    await sleep(500);
    assert.deepEqual(await requestsSeen(tag), { count: 2, ids: ['(none)', 'reconnect-1-2'] });
  });

  test('a 204 answer to the reconnection stops the EventSource for good', async () => {
    const tag = 'stop-on-204';
    const r = await inPage('stopOn204Test', tag, 1500);
    assert.equal(r.readyState, 2, 'the EventSource is not CLOSED');
    assert.deepEqual(events(r.entries), [
      { type: 'hello', data: 'request 1 last-event-id []', lastEventId: '' },
      { type: 'news', data: 'news 1', lastEventId: 'stop-on-204-1-1' },
      { type: 'message', data: 'plain 1', lastEventId: 'stop-on-204-1-2' },
    ]);
    const kinds = r.entries.map((e) => (e.kind === 'event' ? e.type : `${e.kind}:${e.readyState}`));
    assert.deepEqual(kinds, ['open:1', 'hello', 'news', 'message', 'error:0', 'error:2']);
    // The server saw the first request and one reconnection (answered 204), and nothing after it.
    await sleep(500);
    assert.deepEqual(await requestsSeen(tag), { count: 2, ids: ['(none)', 'stop-on-204-1-2'] });
  });

  test('the server is still alive', async () => {
    assert.ok(server.alive(), `the server process died:\n${server.stderr}`);
    const r = await fetch(`http://127.0.0.1:${server.port}/hello`);
    assert.equal(await r.text(), 'hello');
  });
});
