// node_sse_broadcast: a Server-Sent Events broadcaster on node's own `http` module (no packages), the
// peer of `herald serve` in bench/sse_fanout.sh. It does what herald serve's routes do:
//
//   GET  /events              keeps the response open as a text/event-stream and adds it to the set of
//                             clients (removed when the connection closes); a ": %ping%" comment at
//                             once and every 15 s, like herald's ping policy
//   POST /publish?event=NAME  writes the request body as one event ("event: NAME", one "data:" line
//                             per line of the body, a blank line) to every open client and answers
//                             the number of clients as text/plain "N\n"; 400 for a NAME holding
//                             CR, LF or NUL
//
//   node bench/peers/node_sse_broadcast.mjs --port P [--host 127.0.0.1] [--chunked]
//
// The stream goes out with herald's head fields (Content-Type: text/event-stream, Cache-Control:
// no-cache, X-Accel-Buffering: no, Connection: close) and, like herald's, as a raw body that ends
// with the connection: Transfer-Encoding is removed, so both servers put the same bytes on the wire
// for each event. --chunked keeps node's default for HTTP/1.1 instead (each write a chunk, the usual
// result of the textbook `res.writeHead(200, {...}); res.write(...)`). The event is encoded once per
// publish, into one Buffer written to every client with res.write(); a client whose socket buffer is
// full is not dropped (node queues the bytes in memory). TCP_NODELAY on every connection, listen
// backlog 4096 (as herald's SOMAXCONN). Runs until SIGINT/SIGTERM.
import http from 'node:http';

let host = '127.0.0.1';
let port = 0;
let chunked = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' && i + 1 < args.length) port = Number(args[++i]);
  else if (args[i] === '--host' && i + 1 < args.length) host = args[++i];
  else if (args[i] === '--chunked') chunked = true;
  else port = -1;
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node node_sse_broadcast.mjs --port P [--host 127.0.0.1] [--chunked]');
  process.exit(1);
}

const PING = ': %ping%\n';
const PING_INTERVAL_MS = 15_000;
const clients = new Set();

// One event as herald's sse::encode writes it: "event: NAME" when NAME is not empty, then one
// "data: " line per line of the body (split on CRLF, LF and CR), then the blank line.
function encodeEvent(name, data) {
  let out = name === '' ? '' : `event: ${name}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}

function openStream(req, res) {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no');
  res.setHeader('Connection', 'close');
  if (!chunked) res.removeHeader('Transfer-Encoding');  // a raw body, ended by the connection's end
  res.write(PING);  // sends the head with the first comment
  const ping = setInterval(() => res.write(PING), PING_INTERVAL_MS);
  clients.add(res);
  res.on('close', () => {
    clearInterval(ping);
    clients.delete(res);
  });
}

function answer(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function publish(req, res, url) {
  const name = url.searchParams.get('event') ?? '';
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', () => {
    if (/[\r\n\0]/.test(name)) {
      answer(res, 400, 'invalid event name\n');
      return;
    }
    const event = Buffer.from(encodeEvent(name, Buffer.concat(parts).toString('utf8')));
    let delivered = 0;
    for (const client of clients) {
      client.write(event);
      delivered++;
    }
    answer(res, 200, `${delivered}\n`);
  });
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/events') openStream(req, res);
  else if (req.method === 'POST' && url.pathname === '/publish') publish(req, res, url);
  else answer(res, 404, 'not found\n');
});
server.on('clientError', (err, socket) => socket.destroy());
server.on('error', (err) => {
  console.error(`node_sse_broadcast: ${err.message}`);
  process.exit(2);
});
server.listen({ host, port, backlog: 4096 });
const stop = () => {
  for (const client of clients) client.destroy();
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
