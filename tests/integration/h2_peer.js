// HTTP/2 peers for test_proxy_http2.py, on Node's http2 module.
//
//   node h2_peer.js origin CERT KEY [h2only]
//     A TLS HTTP/2 origin on 127.0.0.1:<free port>; prints {"port": N} once listening, then one
//     JSON line per stream event it wants the test to see ({"reset": path, "code": n}).
//     /echo        answers the request body's length and sha256
//     /trailers    a body, then trailers grpc-status: 0, grpc-message: ok
//     /bytes?n=N   N bytes of a repeating pattern
//     /slow        a chunk every 50 ms until the stream goes away (reported as "reset")
//     /stall       a response head and one byte, then nothing
//     /reset?code=N  RST_STREAM with code N instead of a response
//     /push        pushes /pushed.css (when the client allows push), then answers a page
//
//   node h2_peer.js client PROXY_PORT ORIGIN_HOST:PORT CA_FILE PLAN_JSON [nopush]
//     Opens one CONNECT tunnel through Hark, TLS with ALPN h2 trusting CA_FILE, one HTTP/2
//     connection (SETTINGS_ENABLE_PUSH 0 with `nopush`), and runs the plan's requests
//     concurrently: [{"path", "method", "body", "cancelAfterMs"}]. Prints {"alpn", "results":
//     [{"path", "status", "headers", "bodyLength", "sha256", "trailers", "error", "rstCode"}],
//     "pushes": [{"path", "status", "body"}]}.
'use strict';
const http = require('http');
const http2 = require('http2');
const tls = require('tls');
const fs = require('fs');
const crypto = require('crypto');

function pattern(n) {
  const chunk = Buffer.alloc(65536);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  return {chunk, n};
}

function origin(certFile, keyFile, h2only) {
  const server = http2.createSecureServer({
    key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile),
    allowHTTP1: !h2only, ALPNProtocols: h2only ? ['h2'] : ['h2', 'http/1.1'],
  });
  server.on('stream', (stream, headers) => {
    const url = new URL(headers[':path'], 'https://x');
    stream.on('error', () => {});
    if (url.pathname === '/trailers') {
      stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true});
      stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0', 'grpc-message': 'ok'}));
      stream.end('trailer body');
      return;
    }
    if (url.pathname === '/bytes') {
      const {chunk, n} = pattern();
      let left = Number(url.searchParams.get('n'));
      stream.respond({':status': 200, 'content-length': String(left)});
      const pump = () => {
        while (left > 0) {
          const piece = chunk.subarray(0, Math.min(left, chunk.length));
          left -= piece.length;
          if (!stream.write(piece)) { stream.once('drain', pump); return; }
        }
        stream.end();
      };
      pump();
      return;
    }
    if (url.pathname === '/slow') {
      stream.respond({':status': 200});
      const timer = setInterval(() => stream.write('tick\n'), 50);
      stream.on('close', () => {
        clearInterval(timer);
        console.log(JSON.stringify({reset: '/slow', code: stream.rstCode}));
      });
      return;
    }
    if (url.pathname === '/stall') {  // a head and one chunk, then silence
      stream.respond({':status': 200});
      stream.write('x');
      return;
    }
    if (url.pathname === '/push') {  // PUSH_PROMISE, then the page; the pushed response after
      if (stream.session.remoteSettings.enablePush) {
        stream.pushStream({':path': '/pushed.css'}, (error, push) => {
          if (error) return;
          push.on('error', () => {});
          push.respond({':status': 200, 'content-type': 'text/css', 'x-pushed': 'yes'});
          push.end('body { color: rebeccapurple }');
        });
      }
      stream.respond({':status': 200, 'content-type': 'text/html'});
      stream.end('<link rel="stylesheet" href="/pushed.css">');
      return;
    }
    if (url.pathname === '/reset') {  // RST_STREAM before any response
      setTimeout(() => stream.close(Number(url.searchParams.get('code'))), 20);
      return;
    }
    const hash = crypto.createHash('sha256');
    let length = 0;
    stream.on('data', (d) => { hash.update(d); length += d.length; });
    stream.on('end', () => {
      stream.respond({':status': 200, 'content-type': 'text/plain', 'x-origin': 'node-h2'});
      stream.end(`${headers[':method']} ${headers[':path']} ${length} ${hash.digest('hex')}`);
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({port: server.address().port})));
}

function tunnel(proxyPort, target) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target});
    req.on('connect', (res, socket) => res.statusCode === 200 ? resolve(socket)
                                                              : reject(new Error('CONNECT ' + res.statusCode)));
    req.on('error', reject);
    req.end();
  });
}

function run(session, item) {
  return new Promise((resolve) => {
    const out = {path: item.path, status: 0, headers: [], bodyLength: 0, trailers: null, error: null};
    const hash = crypto.createHash('sha256');
    const stream = session.request({':method': item.method || 'GET', ':path': item.path},
                                   {endStream: !item.body});
    if (item.body) stream.end(Buffer.alloc(item.body, 'x'));
    stream.on('response', (h, flags, raw) => { out.status = h[':status']; out.headers = raw; });
    stream.on('trailers', (t) => { out.trailers = t; });
    stream.on('data', (d) => { hash.update(d); out.bodyLength += d.length; });
    stream.on('error', (e) => { out.error = e.code || String(e); });
    stream.on('close', () => { out.rstCode = stream.rstCode; out.sha256 = hash.digest('hex'); resolve(out); });
    if (item.cancelAfterMs) setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), item.cancelAfterMs);
  });
}

function receivePush(pushed, headers) {
  return new Promise((resolve) => {
    const out = {path: headers[':path'], status: 0, body: ''};
    pushed.on('push', (h) => { out.status = h[':status']; });
    pushed.on('data', (d) => { out.body += d; });
    pushed.on('error', (e) => { out.error = e.code || String(e); });
    pushed.on('close', () => resolve(out));
  });
}

async function client(proxyPort, target, caFile, plan, nopush) {
  const socket = await tunnel(Number(proxyPort), target);
  const secure = tls.connect({socket, servername: 'localhost', ALPNProtocols: ['h2'],
                              ca: fs.readFileSync(caFile)});
  await new Promise((resolve, reject) => { secure.on('secureConnect', resolve); secure.on('error', reject); });
  const session = http2.connect('https://' + target, {createConnection: () => secure,
                                                      settings: {enablePush: nopush !== 'nopush'}});
  session.on('error', () => {});
  const pushes = [];
  session.on('stream', (pushed, headers) => pushes.push(receivePush(pushed, headers)));
  const results = await Promise.all(JSON.parse(plan).map((item) => run(session, item)));
  console.log(JSON.stringify({alpn: secure.alpnProtocol, results, pushes: await Promise.all(pushes)}));
  session.close();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'origin') origin(args[0], args[1], args[2] === 'h2only');
else client(...args).catch((e) => { console.log(JSON.stringify({fatal: String(e)})); process.exit(1); });
