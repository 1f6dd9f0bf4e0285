// WebSocket over HTTP/2 (RFC 8441 extended CONNECT) for test_proxy_http2.py, on Node's http2
// module with WebSocket frames built by hand (RFC 6455 §5.2).
//
//   node h2_ws_peer.js origin CERT KEY [noconnect]
//     A TLS HTTP/2 origin on 127.0.0.1:<free port> advertising SETTINGS_ENABLE_CONNECT_PROTOCOL
//     (not with `noconnect`); prints {"port": N}. An extended CONNECT with :protocol websocket
//     is answered 200; every text or binary message is echoed, a ping answered with a pong, a
//     close answered with the same close, then the stream ends. A request offering
//     permessage-deflate gets it without context takeover (RFC 7692): messages with RSV1 are
//     inflated, and echoes of them compressed.
//
//   node h2_ws_peer.js client PROXY_PORT ORIGIN_HOST:PORT CA_FILE PATH
//     One CONNECT tunnel through Hark, TLS with ALPN h2 trusting CA_FILE, one HTTP/2 connection.
//     Prints {"enableConnectProtocol": bool} when the server does not allow extended CONNECT;
//     else opens `:protocol websocket` on PATH, sends a text, a binary, a ping, a text in two
//     fragments and a close (1000 "bye"), and prints {"status", "received": [{type, data}]}.
//     With a 6th argument `deflate` it offers permessage-deflate and sends the text compressed.
'use strict';
const http = require('http');
const http2 = require('http2');
const tls = require('tls');
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');

// RFC 7692 §7.2.1: a message is a raw DEFLATE stream without its 00 00 ff ff tail.
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
function compress(payload) {
  const out = zlib.deflateRawSync(Buffer.from(payload), {finishFlush: zlib.constants.Z_SYNC_FLUSH});
  return out.subarray(0, out.length - TAIL.length);
}
function decompress(payload) {
  return zlib.inflateRawSync(Buffer.concat([payload, TAIL]), {finishFlush: zlib.constants.Z_SYNC_FLUSH});
}

const OPCODES = {0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong'};

function frame(opcode, payload, {fin = true, mask = false, rsv1 = false} = {}) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) {
    head.push(maskBit | len);
  } else if (len < 65536) {
    head.push(maskBit | 126, len >> 8, len & 0xff);
  } else {
    head.push(maskBit | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff,
              len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** Calls onFrame({fin, opcode, payload}) for each complete frame of the byte stream. */
function frames(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      const masked = (buf[1] & 0x80) !== 0;
      const key = masked ? buf.subarray(at, at + 4) : null;
      if (masked) at += 4;
      if (buf.length < at + len) return;
      const fin = (buf[0] & 0x80) !== 0;
      const rsv1 = (buf[0] & 0x40) !== 0;
      const opcode = buf[0] & 0x0f;
      let payload = Buffer.from(buf.subarray(at, at + len));
      if (masked) payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
      buf = buf.subarray(at + len);
      onFrame({fin, rsv1, opcode, payload});
    }
  };
}

function origin(certFile, keyFile, noconnect) {
  const server = http2.createSecureServer({
    key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), ALPNProtocols: ['h2'],
    settings: {enableConnectProtocol: !noconnect},
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
      stream.respond({':status': 404});
      stream.end();
      return;
    }
    const deflate = /permessage-deflate/.test(headers['sec-websocket-extensions'] || '');
    stream.respond(deflate ? {':status': 200, 'sec-websocket-extensions':
                               'permessage-deflate; server_no_context_takeover; client_no_context_takeover'}
                           : {':status': 200});
    let message = null;  // {opcode, compressed, parts}
    stream.on('data', frames(({fin, rsv1, opcode, payload}) => {
      if (opcode === 9) {
        stream.write(frame(10, payload));
      } else if (opcode === 8) {
        stream.end(frame(8, payload));
      } else if (opcode === 1 || opcode === 2 || opcode === 0) {
        if (opcode !== 0) message = {opcode, compressed: rsv1, parts: []};
        message.parts.push(payload);
        if (!fin) return;
        const whole = Buffer.concat(message.parts);
        if (message.compressed) {
          stream.write(frame(message.opcode, compress(decompress(whole)), {rsv1: true}));
        } else {
          stream.write(frame(message.opcode, whole));
        }
      }
    }));
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

async function client(proxyPort, target, caFile, path, deflate) {
  const socket = await tunnel(Number(proxyPort), target);
  const secure = tls.connect({socket, servername: 'localhost', ALPNProtocols: ['h2'],
                              ca: fs.readFileSync(caFile)});
  await new Promise((resolve, reject) => { secure.on('secureConnect', resolve); secure.on('error', reject); });
  const session = http2.connect('https://' + target, {createConnection: () => secure});
  session.on('error', () => {});
  const settings = await new Promise((resolve) => session.once('remoteSettings', resolve));
  if (!settings.enableConnectProtocol) {
    console.log(JSON.stringify({enableConnectProtocol: false}));
    session.close();
    return;
  }
  const stream = session.request({':method': 'CONNECT', ':protocol': 'websocket', ':path': path,
                                  ':scheme': 'https', ':authority': target,
                                  'sec-websocket-version': '13',
                                  ...(deflate === 'deflate' ? {'sec-websocket-extensions':
                                      'permessage-deflate; client_no_context_takeover'} : {})},
                                 {endStream: false});
  const out = {enableConnectProtocol: true, status: 0, received: []};
  stream.on('response', (h) => {
    out.status = h[':status'];
    out.extensions = h['sec-websocket-extensions'] || null;
    if (out.extensions) {
      stream.write(frame(1, compress('hello over h2'), {mask: true, rsv1: true}));
    } else {
      stream.write(frame(1, 'hello over h2', {mask: true}));
    }
    stream.write(frame(2, Buffer.from([1, 2, 3, 250]), {mask: true}));
    stream.write(frame(9, 'are you there', {mask: true}));
    stream.write(frame(1, 'frag', {fin: false, mask: true}));
    stream.write(frame(0, 'mented', {mask: true}));
  });
  stream.on('data', frames(({rsv1, opcode, payload}) => {
    if (rsv1) payload = decompress(payload);
    out.received.push({type: OPCODES[opcode], data: opcode === 2 ? [...payload] : payload.toString('latin1')});
    if (out.received.length === 4) {
      const close = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]);
      stream.end(frame(8, close, {mask: true}));
    }
  }));
  stream.on('error', (e) => { out.error = e.code || String(e); });
  await new Promise((resolve) => stream.on('close', resolve));
  out.rstCode = stream.rstCode;
  console.log(JSON.stringify(out));
  session.close();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'origin') origin(args[0], args[1], args[2] === 'noconnect');
else client(...args).catch((e) => { console.log(JSON.stringify({fatal: String(e)})); process.exit(1); });
