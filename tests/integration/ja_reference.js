#!/usr/bin/env node
// Reference JA3/JA4 values for test_ja4_reference.py, computed by the npm package
// `read-tls-client-hello` (HTTP Toolkit's pure-JS ClientHello reader) from raw ClientHello bytes.
//
// Input: hex strings, one ClientHello (its TLS records) per line, on stdin or as arguments.
// Output: one JSON object per input line, in order:
//   {"ok": true, "ja3": "<md5 hex>", "ja4": "<ja4 hashed>", "legacyVersion": N,
//    "cipherSuites": [N…], "extensions": [N…], "sni": "…"|null, "alpn": ["…"]|null}
//   {"ok": false, "error": "…"} when the package cannot read that hello.
// The package exposes only the hashed forms (no JA3 string, no ja4_r).
// Exit status 3 (and a message on stderr) when the package is not installed.
'use strict';

const path = require('path');
const stream = require('stream');

function loadReference() {
  const candidates = [path.join(__dirname, 'node_modules', 'read-tls-client-hello'),
                      'read-tls-client-hello'];  // NODE_PATH or a global install
  for (const candidate of candidates) {
    try {
      return require(candidate);
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') {
        throw error;
      }
    }
  }
  return null;
}

/** The parsed hello and fingerprints of one hex string, through the package's public API. */
async function reference(api, hex) {
  // A readable that never ends: the package peeks the first record, then unshifts it back.
  const input = new stream.Readable({read() {}});
  input.push(Buffer.from(hex, 'hex'));
  try {
    const hello = await api.readTlsClientHello(input);
    const sni = api.getExtensionData(hello, 0x0000);
    const alpn = api.getExtensionData(hello, 0x0010);
    return {
      ok: true,
      ja3: api.calculateJa3(hello),
      ja4: api.calculateJa4(hello),
      legacyVersion: hello.version,
      cipherSuites: hello.cipherSuites,
      extensions: hello.extensions.map((e) => e.id),
      sni: sni ? (sni.serverName ?? null) : null,
      alpn: alpn ? alpn.protocols : null,
    };
  } catch (error) {
    return {ok: false, error: String(error && error.message ? error.message : error)};
  } finally {
    input.destroy();
  }
}

async function main() {
  const api = loadReference();
  if (api === null) {
    process.stderr.write('read-tls-client-hello is not installed (npm install it into ' +
                         path.join(__dirname, 'node_modules') + ')\n');
    process.exit(3);
  }
  let lines = process.argv.slice(2);
  if (lines.length === 0) {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    lines = Buffer.concat(chunks).toString('utf8').split('\n');
  }
  for (const line of lines.map((l) => l.trim()).filter((l) => l.length > 0)) {
    process.stdout.write(JSON.stringify(await reference(api, line)) + '\n');
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
