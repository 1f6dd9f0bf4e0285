// Both ends of the WebSocket tests (test_websocket.py), on the npm `ws` package.
//
//   node ws_peer.js origin [--tls CERT KEY] [--deflate] [--echo]
//       A WebSocket origin on 127.0.0.1:<free port>; prints {"port": N} once listening. With
//       --echo it sends every message back as it came (text as text, binary as binary)
//       instead of running the script.
//   node ws_peer.js client --proxy PORT --path absolute|connect --url URL [--ca PEM] [--deflate]
//       Connects through Hark: `absolute` sends the upgrade in absolute-form to the proxy,
//       `connect` opens a CONNECT tunnel first (TLS inside it for wss://, trusting --ca). Runs
//       the script below, checks what the origin sent, and prints {"client": [...],
//       "server": [...]}: every message each side sent, in order, as Hark should record them.
//
// The script: the client sends text, binary, a text message in three fragments with a ping
// between the first two, a 50 KB message and 200 small ones, then "server-turn"; the origin checks
// what it got and answers with its own script (text, binary, ping, a fragmented binary message,
// 50 KB, 100 small ones, "client-close"); the client then closes with 4001 "client bye" and the
// origin echoes the close. Each side answers the other's ping with a pong (ws does it).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const tls = require('tls');
const { WebSocket, WebSocketServer } = require('ws');

function arg(name, count = 1) {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  return count === 1 ? process.argv[i + 1] : process.argv.slice(i + 1, i + 1 + count);
}
const deflate = process.argv.includes('--deflate');

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}
function text50k() {
  let s = '';
  for (let i = 0; s.length < 50000; i++) s += `line ${i}: the quick brown fox — naïve café ✓\n`;
  return s.slice(0, 50000);
}

// What each side sends, as records {type, text|data(base64)|code+reason}.
const t = (text) => ({ type: 'text', text });
const bin = (buf) => ({ type: 'binary', data: buf.toString('base64') });
const ping = (s) => ({ type: 'ping', data: Buffer.from(s).toString('base64') });
const pong = (s) => ({ type: 'pong', data: Buffer.from(s).toString('base64') });
const close = (code, reason) => ({ type: 'close', code, reason });

const small = (prefix, n) => Array.from({ length: n }, (_, i) => t(`${prefix}-${i}`));
const CLIENT_DATA = [t('hello from client'), bin(pattern(256, 0)), t('frag-one frag-two frag-end'),
  t(text50k()), ...small('msg', 200), t('server-turn')];
const SERVER_DATA = [t('hello from server'), bin(pattern(256, 99)),
  bin(Buffer.concat([pattern(1000, 1), pattern(2000, 2), pattern(10, 3)])),
  bin(pattern(50000, 5)), ...small('srv', 100), t('client-close')];

function expected() {
  const client = [CLIENT_DATA[0], CLIENT_DATA[1], ping('client-ping'), ...CLIENT_DATA.slice(2),
    pong('server-ping'), close(4001, 'client bye')];
  const server = [pong('client-ping'), SERVER_DATA[0], SERVER_DATA[1], ping('server-ping'),
    ...SERVER_DATA.slice(2), close(4001, 'client bye')];
  return { client, server };
}

function record(data, isBinary) {
  return isBinary ? bin(Buffer.from(data)) : t(Buffer.from(data).toString('utf8'));
}

function send(ws, data, options = {}) {
  return new Promise((resolve, reject) => ws.send(data, options, (e) => (e ? reject(e) : resolve())));
}

function dataOf(r) {
  return r.type === 'text' ? r.text : Buffer.from(r.data, 'base64');
}

async function serverScript(ws) {
  await send(ws, dataOf(SERVER_DATA[0]));
  await send(ws, dataOf(SERVER_DATA[1]));
  ws.ping('server-ping');
  await send(ws, pattern(1000, 1), { binary: true, fin: false });
  await send(ws, pattern(2000, 2), { binary: true, fin: false });
  await send(ws, pattern(10, 3), { binary: true, fin: true });
  for (const r of SERVER_DATA.slice(3)) await send(ws, dataOf(r), { binary: r.type === 'binary' });
}

function origin() {
  const cert = arg('--tls', 2);
  const server = cert
    ? https.createServer({ cert: fs.readFileSync(cert[0]), key: fs.readFileSync(cert[1]) })
    : http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: deflate });
  wss.on('connection', (ws) => {
    if (process.argv.includes('--echo')) {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      return;
    }
    const got = [];
    ws.on('message', (data, isBinary) => {
      got.push(record(data, isBinary));
      if (got.length < CLIENT_DATA.length) return;
      const same = JSON.stringify(got) === JSON.stringify(CLIENT_DATA);
      if (!same) {
        ws.close(1011, 'origin got other messages');
        return;
      }
      serverScript(ws).catch((e) => ws.close(1011, String(e).slice(0, 100)));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
  });
}

/** A socket to the origin through Hark's CONNECT (TLS inside for wss://). */
function tunnel(proxyPort, host, port, secure, ca) {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    s.once('error', reject);
    s.once('connect', () => s.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.removeListener('data', onData);
      const status = head.toString('latin1', 0, end).split(' ')[1];
      if (status !== '200') return reject(new Error('CONNECT answered ' + status));
      if (!secure) return resolve(s);
      const t = tls.connect({ socket: s, servername: host, ca: fs.readFileSync(ca),
                              ALPNProtocols: ['http/1.1'] });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    };
    s.on('data', onData);
  });
}

async function client() {
  const proxyPort = Number(arg('--proxy'));
  const url = new URL(arg('--url'));
  const options = { perMessageDeflate: deflate };
  if (arg('--path') === 'absolute') {
    options.createConnection = () => net.connect(proxyPort, '127.0.0.1');
    options.finishRequest = (req) => {
      req.path = `http://${url.host}${url.pathname}${url.search}`;  // absolute-form, RFC 9112 §3.2.2
      req.end();
    };
  } else {
    const socket = await tunnel(proxyPort, url.hostname, Number(url.port), url.protocol === 'wss:',
                                arg('--ca'));
    options.createConnection = () => socket;
  }
  const ws = new WebSocket(url, options);
  const received = [];
  const timer = setTimeout(() => fail('timed out; received ' + received.length), 30000);
  function fail(why) {
    process.stderr.write('ws_peer client: ' + why + '\n');
    process.exit(1);
  }
  ws.on('error', (e) => fail('error: ' + e.message));
  ws.on('unexpected-response', (req, res) => fail('upgrade answered ' + res.statusCode));
  ws.on('message', (data, isBinary) => {
    received.push(record(data, isBinary));
    if (!isBinary && data.toString() === 'client-close') ws.close(4001, 'client bye');
  });
  ws.on('close', (code, reason) => {
    clearTimeout(timer);
    if (JSON.stringify(received) !== JSON.stringify(SERVER_DATA)) {
      fail(`origin sent other messages (close ${code} ${reason}): got ${received.length}`);
    }
    // Exit once written: a pipe takes 64 KiB at a time, and exit() would cut the rest.
    process.stdout.write(JSON.stringify(expected()) + '\n', () => process.exit(0));
  });
  ws.on('open', async () => {
    await send(ws, dataOf(CLIENT_DATA[0]));
    await send(ws, dataOf(CLIENT_DATA[1]));
    await send(ws, 'frag-one ', { fin: false });
    ws.ping('client-ping');  // a control frame between fragments (RFC 6455 §5.4)
    await send(ws, 'frag-two ', { fin: false });
    await send(ws, 'frag-end', { fin: true });
    for (const r of CLIENT_DATA.slice(3)) await send(ws, dataOf(r));
  });
}

if (process.argv[2] === 'origin') {
  origin();
} else if (process.argv[2] === 'client') {
  client().catch((e) => {
    process.stderr.write('ws_peer client: ' + e.stack + '\n');
    process.exit(1);
  });
} else {
  process.stderr.write('usage: ws_peer.js origin|client …\n');
  process.exit(2);
}
