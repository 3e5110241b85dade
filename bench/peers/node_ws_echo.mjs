// node_ws_echo: a node `ws` WebSocket echo server, a peer for bench/ws_echo.sh.
//
//   node bench/peers/node_ws_echo.mjs --port P [--host 127.0.0.1]
//
// Any path is accepted. ws (bench/peers/package.json; `npm install` in bench/peers) with
// maxPayload 16 MiB and perMessageDeflate off; every message is sent back as it came (text stays
// text, binary stays binary). ws sets TCP_NODELAY itself. Without the optional native add-ons
// (bufferutil, utf-8-validate), as ws is most often installed. Runs until SIGINT/SIGTERM.
import { WebSocketServer } from 'ws';

let host = '127.0.0.1';
let port = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' && i + 1 < args.length) port = Number(args[++i]);
  else if (args[i] === '--host' && i + 1 < args.length) host = args[++i];
  else port = -1;
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node node_ws_echo.mjs --port P [--host 127.0.0.1]');
  process.exit(1);
}

const wss = new WebSocketServer({ host, port, backlog: 4096, maxPayload: 16 * 1024 * 1024, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('error', (err) => {
  console.error(`node_ws_echo: ${err.message}`);
  process.exit(2);
});
const stop = () => wss.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
