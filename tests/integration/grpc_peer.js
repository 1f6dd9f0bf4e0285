// gRPC peers for test_proxy_http2.py, on @grpc/grpc-js (a real gRPC client and server).
// Messages are raw bytes (no protobuf): the service's (de)serializers are the identity.
//
//   node grpc_peer.js server CERT KEY
//     prints {"port": N}, then one JSON line per call that was cancelled ({"cancelled": method})
//   node grpc_peer.js client PORT CA_FILE
//     calls through the proxy in $grpc_proxy (CONNECT): unary, server streaming, bidirectional
//     streaming, and a call the client cancels after 300 ms (RST_STREAM CANCEL); prints the results
'use strict';
const grpc = require('@grpc/grpc-js');
const fs = require('fs');

const same = (x) => x;
const method = (name, requestStream, responseStream) => ({
  path: '/hark.Test/' + name, requestStream, responseStream,
  requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same,
});
const service = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  bidi: method('Bidi', true, true),
  slow: method('Slow', false, false),
};

function server(certFile, keyFile) {
  const s = new grpc.Server();
  s.addService(service, {
    unary: (call, done) => done(null, Buffer.concat([Buffer.from('echo:'), call.request])),
    serverStream: (call) => {
      for (let i = 0; i < 5; i++) call.write(Buffer.from('part' + i));
      call.end();
    },
    bidi: (call) => {
      call.on('data', (d) => call.write(Buffer.concat([Buffer.from('back:'), d])));
      call.on('end', () => call.end());
    },
    slow: (call) => call.on('cancelled', () => console.log(JSON.stringify({cancelled: 'Slow'}))),
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{
    private_key: fs.readFileSync(keyFile), cert_chain: fs.readFileSync(certFile)}]);
  s.bindAsync('127.0.0.1:0', creds, (err, port) => {
    if (err) throw err;
    console.log(JSON.stringify({port}));
  });
}

function deadline(ms) { return new Date(Date.now() + ms); }

async function client(port, caFile) {
  const Client = grpc.makeGenericClientConstructor(service, 'Test');
  const c = new Client('localhost:' + port, grpc.credentials.createSsl(fs.readFileSync(caFile)));
  const out = {};
  out.unary = await new Promise((resolve) => c.unary(Buffer.from('hi'), {deadline: deadline(10000)},
      (err, reply) => resolve(err ? {code: err.code} : {reply: reply.toString()})));
  out.serverStream = await new Promise((resolve) => {
    const parts = [];
    const call = c.serverStream(Buffer.from('go'), {deadline: deadline(10000)});
    call.on('data', (d) => parts.push(d.toString()));
    call.on('status', (st) => resolve({parts, code: st.code}));
    call.on('error', () => {});
  });
  out.bidi = await new Promise((resolve) => {
    const parts = [];
    const call = c.bidi({deadline: deadline(10000)});
    call.on('data', (d) => parts.push(d.toString()));
    call.on('status', (st) => resolve({parts, code: st.code}));
    call.on('error', () => {});
    for (const m of ['a', 'b', 'c']) call.write(Buffer.from(m));
    call.end();
  });
  // Cancelled by the client after 300 ms (RST_STREAM CANCEL); with a deadline instead, the
  // server may end the call first (grpc-timeout), which is a completed exchange.
  out.slow = await new Promise((resolve) => {
    const call = c.slow(Buffer.from('x'), (err) => resolve({code: err ? err.code : 0}));
    setTimeout(() => call.cancel(), 300);
  });
  console.log(JSON.stringify(out));
  c.close();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') server(args[0], args[1]);
else client(args[0], args[1]).catch((e) => { console.log(JSON.stringify({fatal: String(e)})); process.exit(1); });
