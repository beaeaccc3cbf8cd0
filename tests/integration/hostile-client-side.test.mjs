// The client side as a hostile, slow or unlucky client sees it, against what round 5 rewrote for
// speed (core/server/*): writes straight to the socket with uv_try_write and the uv_write
// fall-back, output gathered until the worker's batch end, the parser reading the shared read
// buffer in place (only leftovers copied), the lazy timeouts of deadline.h, and the header list
// sized exactly for a head that arrived whole. Every case asserts what a user depends on: the
// process survives, each answer is whole, correct and in order (or the error is clear), a
// stalled connection is closed (not how fast), and nothing leaks (the gateway's sockets go back
// to where they were).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {DEFAULT_CONFIG, buildConfig, genBody, parseResponses, rawRequest, sseEvents, eventually,
        sleep} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** conf/gemgate.yaml with the given `limits:` entries replaced ({head_timeout: '1s'}). */
function configWithLimits(limits) {
  let text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  for (const [name, value] of Object.entries(limits)) {
    const line = new RegExp(`^(\\s+${name}:\\s*)\\S+`, 'm');
    assert.match(text, line, `conf/gemgate.yaml has limits.${name}`);
    text = text.replace(line, `$1${value}`);
  }
  return buildConfig({configYaml: text});
}

const METRICS_TOKEN = 'mtok-hostile-client-side-1';
let shared = null;  // the default-limits gateway the cases without limits of their own share
after(async () => { await shared?.close(); });

/**
 * A stack (fake + gateway, metrics open to METRICS_TOKEN): with `limits`, a gateway of its own
 * closed with the test; without, the file's shared one (every case leaves it with no client
 * connection open, which assertHealthy checks).
 */
async function stack(t, limits) {
  if (!limits) {
    shared ??= await startStack({fake, env: {METRICS_TOKEN}});
    return shared;
  }
  const s = await startStack({fake, env: {METRICS_TOKEN}, configYaml: configWithLimits(limits)});
  t.after(() => s.close());
  return s;
}

/**
 * The gateway's client connections: its sockets whose local port is the listening port, not
 * listening (the upstream pool's connections and the listeners are left out).
 */
function clientConnections(gw) {
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
async function gauges(s) {
  const r = await rawRequest(s.gw.port, `GET /metrics HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${METRICS_TOKEN}\r\n` +
                                        'Connection: close\r\n\r\n', {timeoutMs: 5000});
  const text = r.responses[0]?.text ?? '';
  const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
  return {connections: value('gemgate_open_connections'), streams: value('gemgate_open_streams')};
}

/** Fails with the log tail when the gateway died. */
function assertAlive(s, what) {
  if (s.gw.exitInfo) {
    assert.fail(`gemgate died ${what} (${JSON.stringify(s.gw.exitInfo)}); log tail:\n${
        s.gw.logs().slice(-2000)}`);
  }
}

/** The process still answers, and every client connection gets closed (nothing leaked). */
async function assertHealthy(s, what) {
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
async function baseline(s) {
  for (let i = 0; i < 3; i++) assert.equal((await closingGenerate(s, `warm ${i}`))?.status, 200);
  await eventually(() => clientConnections(s.gw) === 0, {what: 'no client connection open'});
  return 0;
}

/** A generateContent request's bytes for a raw socket. */
function generateBytes(s, text, {close = false, extraHeaders = [], model = 'gemini-2.5-flash'} = {}) {
  const body = JSON.stringify(genBody(text));
  return `POST /v1beta/models/${model}:generateContent HTTP/1.1\r\nHost: gw\r\n` +
         `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
         extraHeaders.map((h) => `${h}\r\n`).join('') +
         `content-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

/** One generateContent on its own connection (closed after it); resolves to the answer or null. */
async function closingGenerate(s, text) {
  const r = await rawRequest(s.gw.port, generateBytes(s, text, {close: true}), {timeoutMs: 10000});
  return r.responses[0] ?? null;
}

/** A streamGenerateContent (SSE) request's bytes for a raw socket. */
function streamBytes(s, text, {close = false} = {}) {
  const body = JSON.stringify(genBody(text));
  return `POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n` +
         `Host: gw\r\nx-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
         `content-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

/** Opens a raw connection with Nagle off (so each write leaves as its own segment). */
async function connect(port) {
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
async function sendPieces(port, pieces, {gapMs = 3, timeoutMs = 10000} = {}) {
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
function cap(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool(items, n, fn) {
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

function echo(r) { return r?.json?.candidates?.[0]?.content?.parts?.[0]?.text; }

// ---------------------------------------------------------------------------------------------
// Reads without a copy: requests split across reads at every offset

test('three pipelined requests split in two at every byte: all answered, whole and in order', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const payload = Buffer.from(
      'GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n' + generateBytes(s, 'split middle') +
      'GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
  const offsets = Array.from({length: payload.length - 1}, (_, i) => i + 1);
  const results = await pool(offsets, 6, async (k) =>
      sendPieces(s.gw.port, [payload.subarray(0, k), payload.subarray(k)]));
  results.forEach((r, i) => {
    const k = offsets[i];
    const got = r.responses.map((x) => x.status);
    assert.deepEqual(got, [200, 200, 200], `split at byte ${k}: statuses ${got} (${r.raw.length} bytes back)`);
    assert.equal(echo(r.responses[1]), 'echo: split middle', `split at byte ${k}: the middle answer`);
  });
  await assertHealthy(s, 'the splits');
});

test('a pipelined burst sent one byte per write: every answer, in order', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const n = 5;
  let text = '';
  for (let i = 0; i < n; i++) text += generateBytes(s, `byte ${i}`, {close: i === n - 1});
  const bytes = Buffer.from(text);
  const pieces = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  const r = await sendPieces(s.gw.port, pieces, {gapMs: 0, timeoutMs: 60000});
  assert.deepEqual(r.responses.map(echo), Array.from({length: n}, (_, i) => `echo: byte ${i}`));
  await assertHealthy(s, 'byte-by-byte');
});

test('a body straddling reads behind a head that arrived whole, then a pipelined request in the tail', async (t) => {
  const s = await stack(t);
  await baseline(s);
  // A body of ~200 KiB: larger than one read of the worker's buffer; the next request's head
  // shares the read that ends the body.
  const long = 'z'.repeat(200 * 1024);
  const first = Buffer.from(generateBytes(s, long));
  const second = Buffer.from(generateBytes(s, 'tail request', {close: true}));
  const all = Buffer.concat([first, second]);
  const cuts = [first.indexOf('\r\n\r\n') + 4, first.length - 1, first.length + 10];
  const pieces = [];
  let from = 0;
  for (const c of cuts) { pieces.push(all.subarray(from, c)); from = c; }
  pieces.push(all.subarray(from));
  const r = await sendPieces(s.gw.port, pieces, {gapMs: 20});
  assert.deepEqual(r.responses.map((x) => x.status), [200, 200]);
  assert.equal(echo(r.responses[0]), `echo: ${long}`);
  assert.equal(echo(r.responses[1]), 'echo: tail request');
  await assertHealthy(s, 'the straddling body');
});

test('Expect: 100-continue: waited for, not waited for, and with a pipelined request behind the body', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const body = JSON.stringify(genBody('continued'));
  const head = `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
               `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n` +
               `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // 1. The client waits for the 100 before sending the body.
  const sock = await connect(s.gw.port);
  sock.write(head);
  await eventually(() => Buffer.concat(sock.chunks).toString().startsWith('HTTP/1.1 100'),
                   {timeoutMs: 5000, what: 'the 100 Continue'});
  sock.write(body + generateBytes(s, 'behind continue', {close: true}));
  await Promise.race([sock.gone, cap(10000)]);
  let r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
  const finals = r.responses.filter((x) => x.status >= 200);
  assert.deepEqual(finals.map(echo), ['echo: continued', 'echo: behind continue']);
  // 2. The client sends the body at once (no wait), then a pipelined request, split oddly.
  const all = Buffer.from(head + body + generateBytes(s, 'behind eager', {close: true}));
  const got = await sendPieces(s.gw.port, [all.subarray(0, head.length - 2), all.subarray(head.length - 2, head.length + 5),
                                           all.subarray(head.length + 5)], {gapMs: 20});
  assert.deepEqual(got.responses.filter((x) => x.status >= 200).map(echo), ['echo: continued', 'echo: behind eager']);
  await assertHealthy(s, 'Expect: 100-continue');
});

// ---------------------------------------------------------------------------------------------
// Output queued until the batch end, and connections that go away meanwhile

test('twenty pipelined requests, then a reset at many moments: the process survives, nothing leaks', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const burst = (tag) => {
    let text = '';
    for (let i = 0; i < 20; i++) {
      text += i % 2 ? streamBytes(s, `${tag} s${i} [[chunks=4 interval=1]]`) : generateBytes(s, `${tag} g${i}`);
    }
    return text;
  };
  // Reset right away, after the first answer bytes, after a few ms; and a FIN instead of a reset.
  const waits = [0, 0, 'first-byte', 'first-byte', 1, 3, 7, 15, 30, 'fin'];
  await pool(waits, 5, async (wait, i) => {
    const sock = await connect(s.gw.port);
    sock.write(burst(`reset${i}`));
    if (wait === 'first-byte') {
      await Promise.race([new Promise((r) => sock.once('data', r)), cap(3000)]);
    } else if (wait === 'fin') {
      sock.end();
      await Promise.race([sock.gone, cap(3000)]);
    } else if (wait) {
      await sleep(wait);
    }
    sock.resetAndDestroy();
    await sock.gone;
  });
  await sleep(200);
  await assertHealthy(s, 'pipelined bursts cut by resets');
});

test('a request and its connection\'s end in one segment, many at once: no crash, no leak', async (t) => {
  const s = await stack(t);
  await baseline(s);
  // The request is complete and the client half-closes in the same write; or resets right
  // after it: the answer and the close race inside one loop turn.
  await pool(Array.from({length: 60}, (_, i) => i), 12, async (i) => {
    const sock = await connect(s.gw.port);
    const bytes = i % 3 === 0 ? streamBytes(s, `race ${i} [[chunks=3 interval=0]]`)
                              : generateBytes(s, `race ${i}`);
    if (i % 2) {
      sock.end(bytes);
      await Promise.race([sock.gone, cap(5000)]);
      sock.destroy();
    } else {
      sock.write(bytes);
      setImmediate(() => sock.resetAndDestroy());
      await sock.gone;
    }
  });
  await assertHealthy(s, 'requests racing their connection\'s close');
});

test('a client that stops reading after a pipelined burst of streams is closed; others are served', async (t) => {
  const s = await stack(t, {write_timeout: '1s'});
  await baseline(s);
  const sock = await connect(s.gw.port);
  sock.pause();  // reads nothing at all
  let text = '';
  for (let i = 0; i < 40; i++) text += streamBytes(s, `unread ${i} [[chunks=20 pad=8000 interval=0]]`);
  sock.write(text);
  // Meanwhile another client is served.
  const other = await closingGenerate(s, 'meanwhile');
  assert.equal(other?.status, 200);
  // The gateway must give up on this client: its socket ends (we see it once we read again).
  await eventually(() => clientConnections(s.gw) === 0,
                   {timeoutMs: 30000, intervalMs: 200, what: 'the stalled connection closed by the gateway'});
  sock.resume();
  await Promise.race([sock.gone, cap(10000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'the gateway closed the stalled connection');
  sock.destroy();
  await assertHealthy(s, 'the non-reading client');
});

test('a pipelined mix of whole and streamed answers, read slowly: every answer whole and in order', async (t) => {
  const s = await stack(t);
  await baseline(s);
  let text = '';
  const n = 16;
  for (let i = 0; i < n; i++) {
    text += i % 2 ? streamBytes(s, `mix ${i} [[chunks=5 interval=2 pad=3000]]`, {close: i === n - 1})
                  : generateBytes(s, `mix ${i}`);
  }
  // Read 4 KiB at a time with pauses, so the gateway's direct writes fall back to uv_write.
  const buffer = Buffer.alloc(4096);
  const chunks = [];
  const sock = net.connect({host: '127.0.0.1', port: s.gw.port, onread: {buffer, callback: (m) => {
    chunks.push(Buffer.from(buffer.subarray(0, m)));
    setTimeout(() => { if (!sock.destroyed) sock.resume(); }, 2);
    return false;
  }}});
  sock.on('error', () => {});
  const gone = new Promise((r) => sock.once('close', r));
  sock.write(text);
  await Promise.race([gone, cap(60000)]);
  const r = parseResponses(Buffer.concat(chunks), {closed: true});
  assert.equal(r.responses.length, n, 'every answer');
  r.responses.forEach((x, i) => {
    assert.equal(x.status, 200, `answer ${i}`);
    assert.equal(x.truncated, false, `answer ${i} whole`);
    if (i % 2) {
      const events = x.text.split('\r\n\r\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
      assert.equal(events.length, 5, `stream ${i}: every event`);
      assert.ok(events[0].candidates[0].content.parts[0].text.startsWith(`echo: mix ${i}`), `stream ${i} in order`);
    } else {
      assert.equal(echo(x), `echo: mix ${i}`, `answer ${i} in order`);
    }
  });
  await assertHealthy(s, 'the slowly read mix');
});

test('pipelined large whole answers partly taken by the kernel: each arrives byte for byte, in order', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const answers = [3, 1, 2].map((mib, i) => JSON.stringify({
    candidates: [{content: {role: 'model', parts: [{text: `big${i} ` + String.fromCharCode(97 + i).repeat(mib * 1024 * 1024)}]},
                  finishReason: 'STOP', index: 0}],
    usageMetadata: {promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2}}));
  fake.script(answers.map((body) => ({body, match: {pathIncludes: ':generateContent'}})));
  let text = '';
  for (let i = 0; i < 3; i++) text += generateBytes(s, `large ${i}`, {close: i === 2});
  const buffer = Buffer.alloc(64 * 1024);
  const chunks = [];
  const sock = net.connect({host: '127.0.0.1', port: s.gw.port, onread: {buffer, callback: (m) => {
    chunks.push(Buffer.from(buffer.subarray(0, m)));
    setTimeout(() => { if (!sock.destroyed) sock.resume(); }, 1);
    return false;
  }}});
  sock.on('error', () => {});
  const gone = new Promise((r) => sock.once('close', r));
  sock.write(text);
  await Promise.race([gone, cap(60000)]);
  const r = parseResponses(Buffer.concat(chunks), {closed: true});
  assert.equal(r.responses.length, 3, 'three answers');
  r.responses.forEach((x, i) => {
    assert.equal(x.status, 200);
    assert.ok(x.body.equals(Buffer.from(answers[i])), `answer ${i}: byte for byte (${x.body.length} of ${answers[i].length} bytes)`);
  });
  await assertHealthy(s, 'the large pipelined answers');
});

test('whole answers of every digit count around powers of ten carry the right Content-Length, pipelined', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const sizes = [];
  for (let p = 1; p <= 1000000; p *= 10) sizes.push(p - 1, p, p + 1);
  // A JSON answer of exactly `n` bytes (n >= 2): a string padded to the length.
  const bodyOf = (n) => (n < 8 ? ' '.repeat(n) : JSON.stringify({p: 'y'.repeat(n - 8)}));
  const bodies = sizes.filter((n) => n >= 0).map(bodyOf);
  fake.script(bodies.map((body) => ({body, match: {pathIncludes: ':generateContent'}})));
  let text = '';
  bodies.forEach((_, i) => { text += generateBytes(s, `len ${i}`, {close: i === bodies.length - 1}); });
  const r = await rawRequest(s.gw.port, text, {timeoutMs: 30000});
  assert.equal(r.parseError, undefined);
  assert.equal(r.responses.length, bodies.length, 'every answer, none swallowed by a wrong length');
  r.responses.forEach((x, i) => {
    assert.equal(x.headers['content-length'], String(Buffer.byteLength(bodies[i])), `answer ${i} (${bodies[i].length} bytes)`);
    assert.ok(x.body.equals(Buffer.from(bodies[i])), `answer ${i}: the body`);
  });
  await assertHealthy(s, 'the answers of every length');
});

test('rounds of pipelined bursts cut by resets: memory does not grow round after round', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const rss = () => Number(fs.readFileSync(`/proc/${s.gw.proc.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]) / 1024;
  const round = async (r) => {
    await pool(Array.from({length: 60}, (_, i) => i), 10, async (i) => {
      const sock = await connect(s.gw.port);
      let text = '';
      for (let k = 0; k < 10; k++) {
        text += k % 2 ? streamBytes(s, `round ${r}.${i}.${k} [[chunks=6 interval=1 pad=2000]]`)
                      : generateBytes(s, `round ${r}.${i}.${k}`);
      }
      sock.write(text);
      await sleep(i % 7);
      sock.resetAndDestroy();
      await sock.gone;
    });
    await eventually(() => clientConnections(s.gw) === 0, {timeoutMs: 15000, what: `round ${r}: connections closed`});
  };
  for (let r = 0; r < 2; r++) await round(r);  // warm: pools, allocator
  const warm = rss();
  for (let r = 2; r < 8; r++) await round(r);
  const grown = rss() - warm;
  t.diagnostic(`RSS after 2 warm rounds ${warm.toFixed(1)} MiB, after 6 more +${grown.toFixed(1)} MiB`);
  assert.ok(grown < 24, `RSS grew by ${grown.toFixed(1)} MiB over 6 rounds of 60 reset connections`);
  await assertHealthy(s, 'the reset rounds');
});

/**
 * Starts a client that reads exactly `bytesPerRead` bytes, then pauses `pauseMs`, and so on
 * (Node's onread with a buffer of that size), after sending `request`. Returns {stats, stop()}.
 */
async function tricklingReader(port, request, {bytesPerRead, pauseMs}) {
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

test('write stall: a client reading one byte per second is closed (SIOCOUTQ progress check)', async (t) => {
  const s = await stack(t, {write_timeout: '1s'});
  await baseline(s);
  // An answer far larger than both sockets' buffers, so the reader's one byte per second is
  // all the progress there is. What the gateway had handed to the kernel still reaches the
  // client after the close (before the FIN), at one byte per second: so the close is seen on
  // the gateway's side, its socket gone while the reader still reads.
  const reader = await tricklingReader(
      s.gw.port, streamBytes(s, 'trickle [[chunks=3000 pad=8000 interval=0]]', {close: true}),
      {bytesPerRead: 1, pauseMs: 1000});
  t.after(reader.stop);
  await eventually(() => clientConnections(s.gw) === 0 && reader.stats.bytes > 0,
                   {timeoutMs: 60000, intervalMs: 200,
                    what: 'the gateway to close the one-byte-per-second reader'});
  await eventually(() => /write stalled|client-aborted/.test(s.gw.logs()) || null,
                   {timeoutMs: 5000, what: 'the stall in the gateway log'}).catch(() => {});
  reader.stop();
  await assertHealthy(s, 'the trickling reader');
});

/** Reads `request`'s answer `bytes` at a time every `pauseMs`; resolves to the parsed answer. */
async function steadyRead(s, request, {bytes, pauseMs, capMs = 120000}) {
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

for (const [bytes, pauseMs, chunks] of [[16 * 1024, 20, 300], [16 * 1024, 100, 120]]) {
  test(`write stall: a slow but steady reader (${bytes / 1024} KiB every ${pauseMs} ms) gets a large stream whole`, async (t) => {
    const s = await stack(t, {write_timeout: '1s'});
    await baseline(s);
    // The answer is larger than both sockets' buffers can hold, so the reader's pace is what
    // drains it; the kernel takes new bytes from the gateway only now and then.
    const parsed = await steadyRead(s, streamBytes(s, `steady [[chunks=${chunks} pad=8000 interval=0]]`, {close: true}),
                                    {bytes, pauseMs});
    assert.equal(parsed.responses.length, 1);
    const res = parsed.responses[0];
    assert.equal(res.status, 200);
    assert.equal(res.truncated, false, 'the chunked answer ended with its last chunk');
    const events = res.text.split('\r\n\r\n').filter((e) => e.startsWith('data: '));
    assert.equal(events.length, chunks, 'every event arrived');
    assert.equal(JSON.parse(events.at(-1).slice(6)).candidates[0].finishReason, 'STOP');
    await assertHealthy(s, 'the steady reader');
  });
}

test('over an HTTP/2 upstream: clients resetting mid-stream cut only their own streams; the session lives on', async (t) => {
  const tls = await startFakeGemini({tls: true});
  t.after(() => tls.close());
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8').replace(/^workers: \S+/m, 'workers: 1');
  const s = await startStack({fake: tls, env: {METRICS_TOKEN}, configYaml: buildConfig({configYaml: text})});
  t.after(() => s.close());
  await baseline(s);
  const kept = [], cut = [];
  for (let i = 0; i < 24; i++) {
    const sock = await connect(s.gw.port);
    sock.write(streamBytes(s, `h2 ${i} [[chunks=12 interval=15 pad=500]]`, {close: true}));
    (i % 2 ? cut : kept).push(sock);
  }
  await sleep(60);
  for (const [k, sock] of cut.entries()) {
    if (k % 2) sock.resetAndDestroy(); else sock.destroy();
  }
  for (const [k, sock] of kept.entries()) {
    await Promise.race([sock.gone, cap(30000)]);
    const r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
    const events = r.responses[0]?.text.split('\r\n\r\n').filter((e) => e.startsWith('data: ')) ?? [];
    assert.equal(events.length, 12, `kept stream ${k}: every event (${r.responses[0]?.status})`);
    assert.equal(r.responses[0].truncated, false, `kept stream ${k} ended properly`);
  }
  await tls.waitFor((x) => x.active === 0, 10000);
  const sessionsBefore = tls.sessions().filter((x) => !x.closed).map((x) => x.id);
  for (let i = 0; i < 10; i++) assert.equal((await closingGenerate(s, `after h2 ${i}`))?.status, 200);
  const used = new Set(tls.requests().slice(-10).map((x) => x.session));
  assert.ok([...used].every((id) => sessionsBefore.includes(id)), 'later requests reuse the sessions that carried the resets');
  assert.ok(tls.requests().slice(-10).every((x) => x.httpVersion === '2.0'));
  await assertHealthy(s, 'client resets over HTTP/2');
});

// ---------------------------------------------------------------------------------------------
// Lazy timeouts (deadline.h): still closed on time, not early

test('slowloris head: a head trickling in one byte at a time past head_timeout is closed (408)', async (t) => {
  const s = await stack(t, {head_timeout: '1s'});
  await baseline(s);
  const head = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: gw\r\n${'x-slow: 1\r\n'.repeat(200)}\r\n`);
  const sock = await connect(s.gw.port);
  for (let i = 0; i < head.length && !sock.destroyed && !sock.readableEnded; i++) {
    sock.write(head.subarray(i, i + 1));
    await sleep(40);
    if (sock.chunks.length) break;
  }
  await Promise.race([sock.gone, cap(20000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'closed');
  const r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
  if (r.responses.length) assert.equal(r.responses[0].status, 408);
  sock.destroy();
  await assertHealthy(s, 'the slow head');
});

test('slow bodies: a stopped body (body_timeout) and a trickling one (min_body_rate) are closed with 408', async (t) => {
  const s = await stack(t, {body_timeout: '1s', min_body_rate: '1KiB', body_rate_window: '1s'});
  await baseline(s);
  const body = JSON.stringify(genBody('y'.repeat(4000)));
  const head = `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
               `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
               `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const before = fake.stats().total;
  // Stopped after a few bytes.
  const stopped = await connect(s.gw.port);
  stopped.write(head + body.slice(0, 10));
  // Trickling: ten bytes every 100 ms (100 B/s), never stopping long enough for body_timeout.
  const trickle = await connect(s.gw.port);
  trickle.write(head);
  let sent = 0;
  while (!trickle.destroyed && !trickle.readableEnded && sent < body.length && !trickle.chunks.length) {
    trickle.write(body.slice(sent, sent + 10));
    sent += 10;
    await sleep(100);
  }
  for (const [name, sock] of [['stopped', stopped], ['trickling', trickle]]) {
    await Promise.race([sock.gone, cap(20000)]);
    const r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
    assert.equal(r.responses[0]?.status, 408, `${name}: ${Buffer.concat(sock.chunks).toString().slice(0, 200)}`);
    assert.ok(sock.destroyed || sock.readableEnded, `${name}: closed`);
    sock.destroy();
  }
  assert.ok(sent < body.length, 'the trickling body was cut before its end');
  assert.equal(fake.stats().total, before, 'neither body reached the upstream');
  await assertHealthy(s, 'the slow bodies');
});

test('keep-alive: a connection used more often than keepalive_timeout stays open, then idles out', async (t) => {
  const s = await stack(t, {keepalive_timeout: '1s'});
  await baseline(s);
  const sock = await connect(s.gw.port);
  // Each request comes before the idle deadline, but the first deadline (lazy, armed once)
  // passes long before the last request: it must re-arm, not close.
  for (let i = 0; i < 6; i++) {
    sock.chunks.length = 0;
    sock.write(generateBytes(s, `kept ${i}`));
    await eventually(() => parseResponses(Buffer.concat(sock.chunks)).responses.length === 1,
                     {timeoutMs: 5000, what: `answer ${i}`});
    assert.equal(echo(parseResponses(Buffer.concat(sock.chunks)).responses[0]), `echo: kept ${i}`);
    assert.ok(!sock.readableEnded && !sock.destroyed, `still open after request ${i}`);
    await sleep(500);
  }
  // Idle now: closed by the gateway.
  await Promise.race([sock.gone, cap(20000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'the idle connection was closed');
  await assertHealthy(s, 'keep-alive');
});

test('a partial head after a keep-alive request is closed by head_timeout', async (t) => {
  const s = await stack(t, {head_timeout: '1s', keepalive_timeout: '30s'});
  await baseline(s);
  const sock = await connect(s.gw.port);
  sock.write(generateBytes(s, 'first'));
  await eventually(() => parseResponses(Buffer.concat(sock.chunks)).responses.length === 1,
                   {timeoutMs: 5000, what: 'the first answer'});
  sock.chunks.length = 0;
  sock.write('GET /healthz HTTP/1.1\r\nHost: gw\r\n');  // never finished
  await Promise.race([sock.gone, cap(20000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'closed while the keep-alive timeout was far away');
  const r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
  if (r.responses.length) assert.equal(r.responses[0].status, 408);
  await assertHealthy(s, 'the partial head');
});

test('request_timeout fires for a body that keeps trickling fast enough for every other limit', async (t) => {
  const s = await stack(t, {request_timeout: '2s', body_timeout: '1s', min_body_rate: '0'});
  await baseline(s);
  const body = JSON.stringify(genBody('r'.repeat(20000)));
  const sock = await connect(s.gw.port);
  sock.write(`POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
             `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
             `content-length: ${Buffer.byteLength(body)}\r\n\r\n`);
  // Ten bytes every 100 ms: each piece moves the body deadline later; the request's own
  // deadline (armed once, lazily) must still come.
  let sent = 0;
  while (!sock.destroyed && !sock.readableEnded && !sock.chunks.length && sent < body.length) {
    sock.write(body.slice(sent, sent + 10));
    sent += 10;
    await sleep(100);
  }
  await Promise.race([sock.gone, cap(20000)]);
  const r = parseResponses(Buffer.concat(sock.chunks), {closed: true});
  assert.equal(r.responses[0]?.status, 408, Buffer.concat(sock.chunks).toString().slice(0, 200));
  assert.ok(sent < body.length, 'cut before the body ended');
  await assertHealthy(s, 'the trickling body');
});

test('keep-alive across an answer slower than keepalive_timeout: not closed mid-request, closed when idle', async (t) => {
  const s = await stack(t, {keepalive_timeout: '1s'});
  await baseline(s);
  const sock = await connect(s.gw.port);
  for (let i = 0; i < 3; i++) {
    sock.chunks.length = 0;
    await sleep(600);  // part of the idle time used up before the request
    sock.write(generateBytes(s, `slow ${i} [[delay=1500]]`));
    await eventually(() => parseResponses(Buffer.concat(sock.chunks)).responses.length === 1,
                     {timeoutMs: 10000, what: `answer ${i}`});
    assert.equal(echo(parseResponses(Buffer.concat(sock.chunks)).responses[0]), `echo: slow ${i}`);
    assert.ok(!sock.readableEnded && !sock.destroyed, `open after the slow answer ${i}`);
  }
  await Promise.race([sock.gone, cap(20000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'the idle connection was closed');
  await assertHealthy(s, 'slow answers on a keep-alive connection');
});

// ---------------------------------------------------------------------------------------------
// The header list sized for a head that arrived whole

test('many header fields in one read, then more in a second read: every field counts', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const body = JSON.stringify(genBody('fields'));
  const filler = (n, tag) => Array.from({length: n}, (_, i) => `x-${tag}-${i}: v${i}\r\n`).join('');
  const start = `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n`;
  // 1. A small head that arrives whole, and a pipelined one whose 90 fields span two reads; the
  //    fields that matter (the key, the length) are in the second read.
  const small = generateBytes(s, 'small first');
  const big1 = start + 'content-type: application/json\r\n' + filler(60, 'a');
  const big2 = filler(30, 'b') + `x-goog-api-key: ${s.token}\r\n` +
               `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  const r1 = await sendPieces(s.gw.port, [small + big1, big2], {gapMs: 30});
  assert.deepEqual(r1.responses.map((x) => x.status), [200, 200], r1.raw.toString().slice(0, 300));
  assert.equal(echo(r1.responses[1]), 'echo: fields');
  // 2. 99 fields (the limit is 100 with Host) arriving whole, then the same split: both served.
  const whole = start + 'content-type: application/json\r\n' + filler(95, 'c') +
                `x-goog-api-key: ${s.token}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r2 = await sendPieces(s.gw.port, [whole + whole.replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nconnection: close\r\n')
                                                        .slice(0, 500),
                                          whole.replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nconnection: close\r\n')
                                              .slice(500)], {gapMs: 30});
  assert.deepEqual(r2.responses.map((x) => x.status), [200, 200], r2.raw.toString().slice(0, 300));
  // 3. One field over the limit, the last one only in the second read: 431, nothing forwarded.
  const before = fake.stats().total;
  const over = start + filler(99, 'd');
  const r3 = await sendPieces(s.gw.port, [over, `x-last: 1\r\n\r\n`], {gapMs: 30});
  assert.equal(r3.responses[0]?.status, 431, r3.raw.toString().slice(0, 200));
  assert.equal(fake.stats().total, before, 'the refused head reached nothing');
  await assertHealthy(s, 'the header lists');
});

// ---------------------------------------------------------------------------------------------
// Leftovers after an upgrade or an error

test('bytes behind an upgrade request or a malformed request: never smuggled, never lost', async (t) => {
  const s = await stack(t);
  await baseline(s);
  const smuggled = generateBytes(s, 'smuggled');
  // Malformed: the bytes behind must never be served (the connection closes after a 400).
  const malformed = {
    bare_lf: 'GET /healthz HTTP/1.1\nHost: gw\n\n',
    bad_chunk: `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
               `x-goog-api-key: ${s.token}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`,
    cl_te: `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
           `x-goog-api-key: ${s.token}\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
  };
  for (const [name, first] of Object.entries(malformed)) {
    const r = await rawRequest(s.gw.port, first + smuggled, {timeoutMs: 5000, settleMs: 500});
    assert.ok(r.responses.length >= 1 && r.responses[0].status === 400,
              `${name}: a 400 first: ${r.text.slice(0, 200)}`);
    assert.ok(!r.responses.map(echo).includes('echo: smuggled'), `${name}: the bytes behind it were served`);
    assertAlive(s, name);
  }
  assert.equal(fake.requests().filter((x) => x.body.includes('smuggled')).length, 0,
               'nothing behind a malformed request reached the upstream');
  // Upgrades the gateway does not do: refused, or served as plain requests; either way the
  // request behind is answered correctly or not at all, never garbled, and the process lives.
  const upgrades = {
    websocket: 'GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    h2c: 'GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
         'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    connect: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
  };
  for (const [name, first] of Object.entries(upgrades)) {
    const r = await rawRequest(s.gw.port, first + smuggled + 'GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n',
                               {timeoutMs: 5000, settleMs: 500});
    assert.equal(r.parseError, undefined, `${name}: answers well-formed: ${r.text.slice(0, 300)}`);
    assert.ok(r.responses.length >= 1, `${name}: an answer: ${r.text.slice(0, 200)}`);
    const served = r.responses.findIndex((x) => echo(x));
    if (served >= 0) assert.equal(echo(r.responses[served]), 'echo: smuggled', `${name}: in order`);
    assert.ok(r.responses.every((x) => !x.truncated), `${name}: no answer cut short`);
    assertAlive(s, name);
  }
  await assertHealthy(s, 'the leftovers');
});

// BUG (found by this suite, predates round 5: /work/notes/s20/gemgate-base fails it too; left as
// `todo` for the transports lane): a HEAD request that carries a body is sent upstream with
// CURLOPT_POSTFIELDS and CUSTOMREQUEST "HEAD" but without CURLOPT_NOBODY
// (transports/curl_easy_setup.cpp, the `else if (r.body)` branch), so libcurl waits for the
// body the answer's Content-Length (or chunked framing) announces, which a HEAD answer never
// has: the client gets nothing until the upstream timeout (600 s for a whole answer), the
// upstream connection is held as long, and every request pipelined behind waits with it.
test('a HEAD request with a body is answered (head only), and the request pipelined behind it too', {
  todo: 'transports/curl_easy_setup.cpp: HEAD with a body lacks CURLOPT_NOBODY and hangs until the upstream timeout',
}, async (t) => {
  const s = await stack(t);
  await baseline(s);
  const body = JSON.stringify(genBody('head with a body'));
  const r = await rawRequest(s.gw.port,
      `HEAD /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
      `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
      'GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', {timeoutMs: 8000});
  // parseResponses does not know the first answer is to a HEAD (no body), so count status lines.
  const heads = r.text.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
  assert.equal(heads.length, 2, `two answers (closed=${r.closed}): ${JSON.stringify(r.text.slice(0, 300))}`);
  assert.ok(r.text.endsWith('{"status":"ok"}'), 'the pipelined request was answered');
  await assertHealthy(s, 'the HEAD with a body');
});
