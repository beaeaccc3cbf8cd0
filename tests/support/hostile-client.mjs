// Helpers of the hostile client suites (tests/integration/hostile-client-*.test.mjs): raw
// sockets with Nagle off, requests split into pieces, readers that take a set number of bytes at
// a time, the gateway's open client connections (from /proc) and its own gauges (/metrics), and
// the check every case ends with (assertHealthy: the process answers, no client connection is
// left open, no stream counted). Not a test file itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {startStack} from './stack.mjs';
import {DEFAULT_CONFIG, buildConfig, genBody, parseResponses, rawRequest, eventually, sleep} from './gateway.mjs';

/** The metrics token the suites' gateways get, so assertHealthy can read /metrics. */
export const METRICS_TOKEN = 'mtok-hostile-client-side-1';

/** conf/gemgate.yaml with the given `limits:` entries replaced ({head_timeout: '1s'}). */
export function configWithLimits(limits) {
  let text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  for (const [name, value] of Object.entries(limits)) {
    const line = new RegExp(`^(\\s+${name}:\\s*)\\S+`, 'm');
    assert.match(text, line, `conf/gemgate.yaml has limits.${name}`);
    text = text.replace(line, `$1${value}`);
  }
  return buildConfig({configYaml: text});
}

/**
 * Stacks on `fake()` (METRICS_TOKEN set): stack(t, limits) gives a gateway of its own with those
 * `limits:` (closed with the test), or without limits the file's shared one (every case leaves it
 * with no client connection open, which assertHealthy checks); closeShared() for the file's after.
 */
export function stacks(fake) {
  let shared = null;
  return {
    async stack(t, limits) {
      if (!limits) {
        shared ??= await startStack({fake: fake(), env: {METRICS_TOKEN}});
        return shared;
      }
      const s = await startStack({fake: fake(), env: {METRICS_TOKEN}, configYaml: configWithLimits(limits)});
      t.after(() => s.close());
      return s;
    },
    closeShared: () => shared?.close(),
  };
}

/**
 * The gateway's client connections: its sockets whose local port is the listening port, not
 * listening (the upstream pool's connections and the listeners are left out).
 */
export function clientConnections(gw) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${gw.proc.pid}/fd`)) {
    try {
      const m = fs.readlinkSync(`/proc/${gw.proc.pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = fs.readFileSync(`/proc/${gw.proc.pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = parseInt(f[1].split(':')[1], 16);
      if (port === gw.port && f[3] !== '0A' && inodes.has(f[9])) n++;
    }
  }
  return n;
}

/** The gateway's own gauges of open connections and streams (/metrics, on a closing connection). */
export async function gauges(s) {
  const r = await rawRequest(s.gw.port, `GET /metrics HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${METRICS_TOKEN}\r\n` +
                                        'Connection: close\r\n\r\n', {timeoutMs: 5000});
  const text = r.responses[0]?.text ?? '';
  const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
  return {connections: value('gemgate_open_connections'), streams: value('gemgate_open_streams')};
}

/** Fails with the log tail when the gateway died. */
export function assertAlive(s, what) {
  if (s.gw.exitInfo) {
    assert.fail(`gemgate died ${what} (${JSON.stringify(s.gw.exitInfo)}); log tail:\n${
        s.gw.logs().slice(-2000)}`);
  }
}

/** The process still answers, and every client connection gets closed (nothing leaked). */
export async function assertHealthy(s, what) {
  assertAlive(s, what);
  const r = await closingGenerate(s, `after ${what}`);
  assert.equal(r?.status, 200, `${what}: a request afterwards: ${r?.text}`);
  assert.equal(echo(r), `echo: after ${what}`);
  await eventually(() => clientConnections(s.gw) === 0,
                   {timeoutMs: 15000, intervalMs: 100,
                    what: `${what}: every client connection closed (open: ${clientConnections(s.gw)})`});
  // Its own counts agree: only the scrape's connection is open, no stream is counted.
  let last;
  await eventually(async () => {
    last = await gauges(s);
    return last.streams === 0 && last.connections === 1;
  }, {timeoutMs: 10000, intervalMs: 100, what: `${what}: open streams 0 and connections 1 in /metrics (${JSON.stringify(last)})`});
  assertAlive(s, what);
}

/** Warms the gateway (upstream connection, allocator); returns its open client connections (0). */
export async function baseline(s) {
  for (let i = 0; i < 3; i++) assert.equal((await closingGenerate(s, `warm ${i}`))?.status, 200);
  await eventually(() => clientConnections(s.gw) === 0, {what: 'no client connection open'});
  return 0;
}

/** A generateContent request's bytes for a raw socket. */
export function generateBytes(s, text, {close = false, extraHeaders = [], model = 'gemini-2.5-flash'} = {}) {
  const body = JSON.stringify(genBody(text));
  return `POST /v1beta/models/${model}:generateContent HTTP/1.1\r\nHost: gw\r\n` +
         `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
         extraHeaders.map((h) => `${h}\r\n`).join('') +
         `content-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

/** One generateContent on its own connection (closed after it); resolves to the answer or null. */
export async function closingGenerate(s, text) {
  const r = await rawRequest(s.gw.port, generateBytes(s, text, {close: true}), {timeoutMs: 10000});
  return r.responses[0] ?? null;
}

/** A streamGenerateContent (SSE) request's bytes for a raw socket. */
export function streamBytes(s, text, {close = false} = {}) {
  const body = JSON.stringify(genBody(text));
  return `POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n` +
         `Host: gw\r\nx-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
         `content-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

/** Opens a raw connection with Nagle off (so each write leaves as its own segment). */
export async function connect(port) {
  const sock = net.connect({host: '127.0.0.1', port});
  sock.setNoDelay(true);
  sock.errors = [];
  sock.chunks = [];
  sock.on('error', (e) => sock.errors.push(e.code || String(e)));
  sock.on('data', (c) => sock.chunks.push(c));
  sock.gone = new Promise((r) => sock.once('close', r));
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return sock;
}

/**
 * Writes `pieces` one by one, `gapMs` apart (so they reach the gateway in separate reads), and
 * resolves to the responses parsed once the gateway closed the connection (or after timeoutMs).
 */
export async function sendPieces(port, pieces, {gapMs = 3, timeoutMs = 10000} = {}) {
  const sock = await connect(port);
  for (let i = 0; i < pieces.length && !sock.destroyed; i++) {
    if (i > 0 && gapMs) await sleep(gapMs);
    await new Promise((r) => sock.write(pieces[i], r));
  }
  const timer = setTimeout(() => sock.destroy(), timeoutMs);
  await sock.gone;
  clearTimeout(timer);
  const raw = Buffer.concat(sock.chunks);
  return {raw, ...parseResponses(raw, {closed: true})};
}

/** Resolves after `ms` without keeping the process alive (a cap raced against an awaited event). */
export function cap(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({length: n}, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/** The text of a generateContent answer (parsed), or undefined. */
export function echo(r) {
  return r?.json?.candidates?.[0]?.content?.parts?.[0]?.text;
}

/**
 * Starts a client that reads exactly `bytesPerRead` bytes, then pauses `pauseMs`, and so on
 * (Node's onread with a buffer of that size), after sending `request`. Returns {stats, stop()}.
 */
export async function tricklingReader(port, request, {bytesPerRead, pauseMs}) {
  const buffer = Buffer.alloc(bytesPerRead);
  const stats = {bytes: 0};
  const sock = net.connect({host: '127.0.0.1', port, onread: {buffer, callback: (n) => {
    stats.bytes += n;
    setTimeout(() => { if (!sock.destroyed) sock.resume(); }, pauseMs);
    return false;  // pause until the timer
  }}});
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  sock.setNoDelay(true);
  sock.write(request);
  return {stats, stop: () => sock.destroy()};
}

/** Reads `request`'s answer `bytes` at a time every `pauseMs`; resolves to the parsed answer. */
export async function steadyRead(s, request, {bytes, pauseMs, capMs = 120000}) {
  const buffer = Buffer.alloc(bytes);
  const chunks = [];
  const sock = net.connect({host: '127.0.0.1', port: s.gw.port, onread: {buffer, callback: (n) => {
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    setTimeout(() => { if (!sock.destroyed) sock.resume(); }, pauseMs);
    return false;
  }}});
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.once('close', r));
  sock.write(request);
  await Promise.race([closed, cap(capMs)]);
  sock.destroy();
  return parseResponses(Buffer.concat(chunks), {closed: true});
}

