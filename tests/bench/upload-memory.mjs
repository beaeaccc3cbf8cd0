// Upload memory benchmark (issue 11): streams one large body (SIZE_MIB, default 512) through a
// streamed-body route (`stream_body: true`) to an upstream that reads slowly, and prints the
// gateway's peak RSS growth beside the body size; then the same through a buffered route for
// contrast (there the whole body sits in memory, at least once). Each mode gets a fresh gateway
// process, so its peak (VmHWM) is its own. Not a CTest test: figures, no pass/fail.
//
//   node tests/bench/upload-memory.mjs                 # 512 MiB, both modes
//   SIZE_MIB=2048 MODES=streamed node tests/bench/upload-memory.mjs
//   GEMGATE_BIN=/abs/path/gemgate  (default build/conf/gemgate)
//
// The upstream pauses PAUSE_MS (2) after every MiB it reads, so the client is faster than the
// upstream and backpressure has to hold the difference.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {startGateway, poolKey, clientToken} from '../support/gateway.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const SIZE = Number(process.env.SIZE_MIB || 512) * MiB;
const PAUSE_MS = Number(process.env.PAUSE_MS || 2);
const MODES = (process.env.MODES || 'streamed buffered').split(/\s+/).filter(Boolean);
const TOKEN = clientToken('bench');

if (!process.env.GEMGATE_BIN) {
  process.env.GEMGATE_BIN = path.resolve(here, '../../build/conf/gemgate');
}

function startSlowUpstream() {
  const server = http.createServer((req, res) => {
    const hash = crypto.createHash('sha256');
    let bytes = 0, since = 0;
    req.on('data', (c) => {
      bytes += c.length;
      since += c.length;
      hash.update(c);
      if (since >= MiB && PAUSE_MS > 0) {
        since = 0;
        req.pause();
        setTimeout(() => req.resume(), PAUSE_MS);
      }
    });
    req.on('end', () => {
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify({bytes, sha256: hash.digest('hex')}));
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function config() {
  let text = fs.readFileSync(path.join(here, '../../conf/gemgate.yaml'), 'utf8');
  const limit = `${Math.ceil(SIZE / MiB) + 16}MiB`;
  text = text.replace(/^routes:\n/m, 'routes:\n' +
      `  - { prefix: /bulk/, chain: gemini, stream_body: true, max_body_bytes: ${limit} }\n` +
      `  - { prefix: /buffered/bulk/, chain: gemini, strip: /buffered, max_body_bytes: ${limit} }\n`);
  text = text.replace(/^  max_buffered_body_bytes: .*$/m, `  max_buffered_body_bytes: ${limit}`);
  text = text.replace(/^  request_timeout: .*$/m, '  request_timeout: 3600s');
  return text;
}

function rss(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (n) => Number(s.match(new RegExp(`^${n}:\\s+(\\d+)`, 'm'))[1]) * 1024;
  return {now: kb('VmRSS'), peak: kb('VmHWM')};
}

function upload(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: urlPath, method: 'POST', agent: false,
                              headers: {'x-goog-api-key': TOKEN, 'content-length': String(SIZE),
                                        'content-type': 'application/octet-stream'}});
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({status: res.statusCode, text}));
    });
    req.on('error', reject);
    const piece = Buffer.alloc(256 * 1024, 7);
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        const n = Math.min(piece.length, SIZE - sent);
        sent += n;
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

const upstream = await startSlowUpstream();
const upUrl = `http://127.0.0.1:${upstream.address().port}`;
const rows = [];
for (const mode of MODES) {
  const gw = await startGateway({env: {API_KEYS: poolKey('Bench'), ALLOWED_TOKENS: TOKEN},
                                 upstream: upUrl, configYaml: config(), startTimeoutMs: 30000});
  try {
    const base = rss(gw.proc.pid).now;
    const t0 = Date.now();
    const r = await upload(gw.port, mode === 'streamed' ? '/bulk/v1beta/files' : '/buffered/bulk/v1beta/files');
    const ms = Date.now() - t0;
    const peak = rss(gw.proc.pid).peak;
    let bytes = -1;
    try { bytes = JSON.parse(r.text).bytes; } catch { /* an error answer */ }
    rows.push({mode, status: r.status, ok: r.status === 200 && bytes === SIZE, ms, base, growth: peak - base});
  } finally {
    await gw.dispose();
  }
}
upstream.close();

const mib = (b) => (b / MiB).toFixed(1).padStart(8);
console.log(`body ${SIZE / MiB} MiB, upstream pausing ${PAUSE_MS} ms per MiB read`);
console.log('mode       status  intact  seconds  RSS before (MiB)  peak growth (MiB)  growth / body');
for (const r of rows) {
  console.log(`${r.mode.padEnd(10)} ${String(r.status).padStart(6)}  ${String(r.ok).padStart(6)}` +
              `  ${(r.ms / 1000).toFixed(1).padStart(7)}  ${mib(r.base)}          ${mib(r.growth)}` +
              `           ${(r.growth / SIZE).toFixed(3)}`);
}
