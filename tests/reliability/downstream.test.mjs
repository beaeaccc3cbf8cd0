// Hostile and careless clients against the real binary, over loopback only, each run bounded in
// connections and time. Pins the hardening of the client side:
//  1. a client that resets while answers go out (pipelined burst, mid-stream) never kills the
//     process (SIGPIPE used to end it with status 141);
//  2. a refused client cannot make the gateway hold its body: auth answers 401 from the head,
//     before any body byte is sent; many wrong-token 15 MiB uploads leave RSS flat; and a
//     process-wide budget on buffered bodies answers 503 + Retry-After;
//  3. slow bodies cannot hold the slots: a minimum body rate and a whole-request deadline (408);
//     at max_connections an idle keep-alive connection makes room, else 503 + Retry-After;
// 10. '#' in the request target is refused (400) instead of cutting the upstream URL;
// and what was measured good and must stay so: a request smuggling battery, slowloris on heads,
// 2 000 idle connections at a small cost each, client disconnects cancelling the upstream.
// The regression tests of 1, 2, 3 and 10 fail on the code before their fix (see the report of
// the commit that added them); the "stays true" ones pass on both.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {DEFAULT_CONFIG, buildConfig, rawRequest, parseResponses, sleep, generate, streamGenerate,
        sseEvents} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

// ---------------------------------------------------------------------------------------------
// helpers

// Limits added with these tests. Left out of a config that does not set them (they then keep
// their built-in defaults), so the "stays true" tests also run on a binary from before them.
const NEW_LIMITS = ['min_body_rate', 'body_rate_window', 'request_timeout', 'max_buffered_body_bytes'];

/** conf/gemgate.yaml with `limits:` entries (and top-level keys like workers) replaced. */
function configWith(values) {
  let text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  for (const name of NEW_LIMITS) {
    if (!(name in values)) text = text.replace(new RegExp(`^\\s+${name}:.*\\n`, 'm'), '');
  }
  for (const [name, value] of Object.entries(values)) {
    const patched = text.replace(new RegExp(`^(\\s*${name}:\\s*)\\S+`, 'm'), `$1${value}`);
    assert.notEqual(patched, text, `conf/gemgate.yaml has ${name}`);
    text = patched;
  }
  return buildConfig({configYaml: text});
}

async function stack(t, values) {
  const s = await startStack({fake, configYaml: values ? configWith(values) : undefined});
  t.after(() => s.close());
  return s;
}

/** Resident memory of a process in KiB, from /proc/<pid>/status. */
function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : NaN;
}

function assertAlive(s, what) {
  if (s.gw.exitInfo) {
    assert.fail(`gemgate died ${what} (${JSON.stringify(s.gw.exitInfo)}); log tail:\n${
        s.gw.logs().slice(-1500)}`);
  }
}

async function healthz(s, timeoutMs = 5000) {
  const r = await rawRequest(s.gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                             {responses: 1, timeoutMs});
  return r.responses[0]?.status ?? `none (${r.timedOut ? 'timeout' : r.error})`;
}

/** Runs `fn(i)` for i < n with at most `width` at once. */
async function pool(n, width, fn) {
  let next = 0;
  const out = new Array(n);
  await Promise.all(Array.from({length: Math.min(width, n)}, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/**
 * An open socket that collects what it receives: {sock, data(), closed, when(pred)}.
 * Resolves once connected.
 */
async function openSocket(port) {
  const sock = net.connect({host: '127.0.0.1', port});
  const c = {sock, chunks: [], closed: false, error: null};
  c.data = () => Buffer.concat(c.chunks);
  c.responses = () => {
    try { return parseResponses(c.data(), {closed: c.closed}).responses; } catch { return []; }
  };
  sock.on('data', (d) => c.chunks.push(d));
  sock.on('error', (e) => { c.error = e.code || String(e); });
  sock.on('close', () => { c.closed = true; });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return c;
}

/** Waits until pred() holds or timeoutMs passed; returns pred()'s last value. */
async function until(pred, timeoutMs, stepMs = 25) {
  const end = Date.now() + timeoutMs;
  let v = pred();
  while (!v && Date.now() < end) {
    await sleep(stepMs);
    v = pred();
  }
  return v;
}

/** A generateContent body of exactly `size` bytes (valid JSON, a padded prompt). */
function bodyOfSize(size, text = 'pad') {
  const empty = JSON.stringify({contents: [{role: 'user', parts: [{text: `${text} `}]}]});
  const pad = size - Buffer.byteLength(empty);
  assert.ok(pad >= 0);
  return JSON.stringify({contents: [{role: 'user', parts: [{text: `${text} ${'x'.repeat(pad)}`}]}]});
}

function postHead(s, {path = '/v1beta/models/gemini-2.5-flash:generateContent', token, length,
                      extra = []}) {
  const lines = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${s.gw.port}`,
                 'Content-Type: application/json', `Content-Length: ${length}`, ...extra];
  if (token) lines.push(`x-goog-api-key: ${token}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// 1. SIGPIPE

test('1: 2 000 connections that pipeline 20 requests and reset leave the process alive', async (t) => {
  const s = await stack(t);
  const burst = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20);
  let done = 0;
  await pool(2000, 16, async () => {
    if (s.gw.exitInfo) return;
    await new Promise((resolve) => {
      const sock = net.connect({host: '127.0.0.1', port: s.gw.port});
      const timer = setTimeout(() => { sock.destroy(); resolve(); }, 3000);
      sock.on('error', () => {});
      sock.on('close', () => { clearTimeout(timer); resolve(); });
      sock.once('connect', () => sock.write(burst));
      // Reset (SO_LINGER {1,0}) once answers are coming, so the gateway is still writing.
      sock.once('data', () => sock.resetAndDestroy());
    });
    done++;
  });
  await sleep(200);
  assertAlive(s, `after ${done} pipelined connections closed with a reset`);
  assert.equal(await healthz(s), 200, 'still answers');
});

test('1: streaming clients that reset mid-stream leave the process alive', async (t) => {
  const s = await stack(t);
  const body = JSON.stringify({contents: [{role: 'user',
                                           parts: [{text: 'go [[chunks=400 interval=1 pad=500]]'}]}]});
  const req = postHead(s, {path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
                           token: s.token, length: Buffer.byteLength(body)}) + body;
  await pool(200, 10, async () => {
    if (s.gw.exitInfo) return;
    await new Promise((resolve) => {
      const sock = net.connect({host: '127.0.0.1', port: s.gw.port});
      const timer = setTimeout(() => { sock.destroy(); resolve(); }, 5000);
      let got = 0;
      sock.on('error', () => {});
      sock.on('close', () => { clearTimeout(timer); resolve(); });
      sock.once('connect', () => sock.write(req));
      sock.on('data', (d) => {
        got += d.length;
        if (got > 4000) sock.resetAndDestroy();  // a few events in: the stream is flowing
      });
    });
  });
  await sleep(300);
  assertAlive(s, 'after streaming clients reset mid-stream');
  assert.equal(await healthz(s), 200, 'still answers');
  assert.equal((await generate(s.gw, 'after', {token: s.token})).status, 200);
});

// ---------------------------------------------------------------------------------------------
// 2. Unauthenticated memory exhaustion

test('2: a wrong or missing token gets its 401 before the body is sent, and the connection closes',
     async (t) => {
  const s = await stack(t);
  const before = fake.stats().total;
  for (const token of ['wrong-token', null]) {
    const r = await rawRequest(s.gw.port, postHead(s, {token, length: 15 * 1048576}),
                               {responses: 1, settleMs: 300, timeoutMs: 5000});
    const got = r.responses[0];
    assert.ok(got, `token=${token}: no answer without the body (timedOut=${r.timedOut})`);
    assert.equal(got.status, 401);
    assert.equal(got.headers.connection, 'close');
    assert.ok(got.json?.error, 'JSON error');
    assert.ok(r.ms < 3000, `answered in ${r.ms} ms`);
  }
  assert.equal(fake.stats().total - before, 0, 'nothing reached the upstream');
  // A body-less request with a wrong token keeps its connection (there is nothing to skip).
  const two = 'GET /v1beta/models?key=wrong HTTP/1.1\r\nHost: x\r\n\r\n' +
              'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r = await rawRequest(s.gw.port, two, {responses: 2, timeoutMs: 5000});
  assert.deepEqual(r.responses.map((x) => x.status), [401, 200]);
});

test('2: 40 wrong-token uploads of 15 MiB each leave RSS flat', async (t) => {
  const s = await stack(t);
  const pid = s.gw.proc.pid;
  assert.equal((await generate(s.gw, 'warm up', {token: s.token})).status, 200);
  const base = rssKiB(pid);
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); }, 50);
  const size = 15 * 1048576;
  const piece = Buffer.alloc(256 * 1024, 'x');
  const statuses = await Promise.all(Array.from({length: 40}, async () => {
    const c = await openSocket(s.gw.port);
    c.sock.write(postHead(s, {token: 'wrong-token', length: size}));
    let sent = 0;
    const end = Date.now() + 20000;
    while (sent < size && !c.closed && !c.error && Date.now() < end) {
      if (!c.sock.write(piece)) {
        await Promise.race([new Promise((r) => c.sock.once('drain', r)), until(() => c.closed, 2000)]);
      }
      sent += piece.length;
    }
    await until(() => c.closed || c.responses().length, 5000);
    const status = c.responses()[0]?.status;
    c.sock.destroy();
    return status;
  }));
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(pid));
  const grewMiB = (peak - base) / 1024;
  const info = `RSS ${Math.round(base / 1024)} MiB → peak ${Math.round(peak / 1024)} MiB`;
  t.diagnostic(info);
  assert.deepEqual([...new Set(statuses)], [401], `every upload got 401 (${info})`);
  assert.ok(grewMiB < 64, `memory must stay flat: ${info}`);
  assertAlive(s, 'after the uploads');
  assert.equal((await generate(s.gw, 'after', {token: s.token})).status, 200);
});

test('2: over max_buffered_body_bytes a body gets 503 + Retry-After; the others are untouched',
     async (t) => {
  const s = await stack(t, {max_buffered_body_bytes: '4MiB'});
  // A holds 3 MiB of a 3 MiB + 1 byte body.
  const bodyA = bodyOfSize(3 * 1048576 + 1, 'first');
  const a = await openSocket(s.gw.port);
  a.sock.write(postHead(s, {token: s.token, length: Buffer.byteLength(bodyA)}));
  a.sock.write(bodyA.slice(0, -1));
  await sleep(500);
  // B's 2 MiB would take the total over 4 MiB.
  const bodyB = bodyOfSize(2 * 1048576, 'second');
  const rb = await rawRequest(s.gw.port, postHead(s, {token: s.token, length: Buffer.byteLength(bodyB)}) + bodyB,
                              {responses: 1, settleMs: 200, timeoutMs: 8000});
  const b = rb.responses[0];
  assert.ok(b, `B got no answer (timedOut=${rb.timedOut})`);
  assert.equal(b.status, 503, b.text.slice(0, 200));
  assert.ok(Number(b.headers['retry-after']) > 0, 'Retry-After');
  assert.equal(b.json?.error?.status, 'UNAVAILABLE');
  // A is not disturbed: its last byte completes it.
  a.sock.write(bodyA.slice(-1));
  assert.ok(await until(() => a.responses().length, 8000), 'A answered');
  assert.equal(a.responses()[0].status, 200, a.responses()[0].text.slice(0, 200));
  a.sock.destroy();
  // The budget is given back: the same 2 MiB now passes.
  const rc = await rawRequest(s.gw.port, postHead(s, {token: s.token, length: Buffer.byteLength(bodyB)}) + bodyB,
                              {responses: 1, timeoutMs: 8000});
  assert.equal(rc.responses[0]?.status, 200);
});

// ---------------------------------------------------------------------------------------------
// 3. Slow bodies

test('3: a trickled body is cut by min_body_rate, a steady slow one by request_timeout (408)',
     async (t) => {
  const s = await stack(t, {min_body_rate: 100, body_rate_window: '2s', request_timeout: '4s'});
  const run = async (bytesPerTick) => {
    const c = await openSocket(s.gw.port);
    const t0 = Date.now();
    c.sock.write(postHead(s, {token: s.token, length: 100000}));
    while (!c.closed && !c.responses().length && Date.now() - t0 < 12000) {
      c.sock.write('x'.repeat(bytesPerTick));
      await sleep(250);
    }
    await until(() => c.responses().length, 1000);
    c.sock.destroy();
    return {r: c.responses()[0], ms: Date.now() - t0};
  };
  const [trickle, steady] = await Promise.all([run(1), run(100)]);  // 4 B/s and 400 B/s
  assert.equal(trickle.r?.status, 408, 'trickle: 408');
  assert.match(trickle.r.json.error.message, /slower than/);
  assert.ok(trickle.ms < 4000, `trickle cut after ${trickle.ms} ms`);
  assert.equal(steady.r?.status, 408, 'steady: 408');
  assert.match(steady.r.json.error.message, /not received within/);
  assert.ok(steady.ms >= 3500 && steady.ms < 7000, `steady cut after ${steady.ms} ms`);
  assertAlive(s, 'after the slow bodies');
});

test('3: slow bodies filling max_connections: newcomers get 503 + Retry-After, then are served',
     async (t) => {
  const s = await stack(t, {max_connections: 20, min_body_rate: 100, body_rate_window: '2s'});
  const slow = await Promise.all(Array.from({length: 20}, () => openSocket(s.gw.port)));
  for (const c of slow) c.sock.write(postHead(s, {token: s.token, length: 100000}));
  const ticker = setInterval(() => { for (const c of slow) if (!c.closed) c.sock.write('x'); }, 250);
  try {
    await sleep(300);
    const r = await rawRequest(s.gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
                               {responses: 1, settleMs: 200, timeoutMs: 3000});
    const got = r.responses[0];
    assert.ok(got, `a newcomer got no answer (closed=${r.closed}, error=${r.error})`);
    assert.equal(got.status, 503);
    assert.ok(Number(got.headers['retry-after']) > 0, 'Retry-After');
    assert.equal(got.headers.connection, 'close');
    assert.ok(got.json?.error, 'JSON error');
    // The slow bodies are cut by the rate check; the service is back.
    assert.ok(await until(() => slow.every((c) => c.closed), 8000), 'slow bodies cut');
    assert.ok(slow.every((c) => c.responses()[0]?.status === 408), 'each got 408');
    assert.equal(await healthz(s), 200);
  } finally {
    clearInterval(ticker);
    for (const c of slow) c.sock.destroy();
  }
});

test('3: at max_connections the longest-idle keep-alive connection makes room', async (t) => {
  // One worker: shedding picks among the accepting worker's idle connections.
  const s = await stack(t, {workers: 1, max_connections: 10});
  const idle = [];
  for (let i = 0; i < 10; i++) {
    const c = await openSocket(s.gw.port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => c.responses().length, 3000), `idle ${i} answered`);
    idle.push(c);
  }
  try {
    const r = await rawRequest(s.gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                               {responses: 1, timeoutMs: 3000});
    assert.equal(r.responses[0]?.status, 200, 'the newcomer is served');
    assert.ok(await until(() => idle[0].closed, 2000), 'the oldest idle connection was closed');
    assert.equal(idle.filter((c) => c.closed).length, 1, 'only one');
  } finally {
    for (const c of idle) c.sock.destroy();
  }
});

// ---------------------------------------------------------------------------------------------
// 10. '#' in the request target

test('10: a request target with # is refused with 400 and never reaches the upstream', async (t) => {
  const s = await stack(t);
  const before = fake.stats().total;
  const body = JSON.stringify({contents: [{role: 'user', parts: [{text: 'frag'}]}]});
  for (const path of ['/v1beta/models/gemini-2.5-flash:streamGenerateContent#x?alt=sse',
                      '/v1beta/models/gemini-2.5-flash:generateContent?alt=sse#frag',
                      '/healthz#']) {
    const r = await rawRequest(s.gw.port, postHead(s, {path, token: s.token,
                                                       length: Buffer.byteLength(body)}) + body,
                               {responses: 1, timeoutMs: 5000});
    assert.equal(r.responses[0]?.status, 400, `${path}: ${r.text.slice(0, 200)}`);
  }
  assert.equal(fake.stats().total - before, 0);
});

// ---------------------------------------------------------------------------------------------
// What stays true

test('stays true: an 84-payload smuggling battery — nothing smuggled reaches the upstream',
     async (t) => {
  const s = await stack(t);
  // Every payload carries a second request, `inner`, inside the body its Content-Length gives.
  // A strict reading either refuses the payload or sees `inner` as body bytes; only a reading
  // that prefers some Transfer-Encoding spelling over Content-Length (the front/back split of
  // request smuggling) would serve it as a request of its own.
  const inner = `GET /v1beta/models/smuggled?key=${s.token} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const chunked = `0\r\n\r\n${inner}`;
  const cl = `Content-Length: ${chunked.length}\r\n`;
  const tes = ['chunked', ' chunked', 'chunked ', 'Chunked', 'CHUNKED', 'chunked, identity',
               'identity, chunked', 'x-chunked', 'chunked\t', 'chunk', 'chunked;q=1', '"chunked"',
               'gzip, chunked', 'chunked, chunked'];
  const post = (fields) => `POST /v1beta/models/gemini-2.5-flash:generateContent?key=${s.token} ` +
                           `HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${fields}\r\n${chunked}`;
  const payloads = [];
  for (const te of tes) {
    payloads.push(post(`Transfer-Encoding: ${te}\r\n${cl}`));
    payloads.push(post(`${cl}Transfer-Encoding: ${te}\r\n`));
    payloads.push(post(`Transfer-Encoding: identity\r\nTransfer-Encoding: ${te}\r\n${cl}`));
    payloads.push(post(`Transfer-Encoding: ${te}\r\nTransfer-Encoding: identity\r\n${cl}`));
    payloads.push(post(`Transfer-Encoding:${te}\r\n${cl}`));
    payloads.push(post(`${cl}X-Pad: a\r\n Transfer-Encoding: ${te}\r\n`));  // obs-fold
  }
  assert.equal(payloads.length, 84);
  await pool(payloads.length, 6, (i) => rawRequest(s.gw.port, payloads[i], {timeoutMs: 1500}));
  await sleep(300);
  assertAlive(s, 'after the smuggling battery');
  const seen = await (await fetch(`${fake.url}/__requests?limit=1000`)).json();
  const list = Array.isArray(seen) ? seen : seen.requests || [];
  const smuggled = list.filter((r) => /smuggled/.test(r.path || ''));
  assert.equal(smuggled.length, 0, `smuggled requests reached the upstream: ${smuggled.length}`);
});

test('stays true: 2 000 slowloris heads are cut at head_timeout; others are served meanwhile',
     async (t) => {
  const s = await stack(t, {head_timeout: '3s'});
  const conns = await pool(2000, 100, async () => {
    const c = await openSocket(s.gw.port).catch(() => null);
    c?.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    return c;
  });
  const open = conns.filter(Boolean);
  assert.ok(open.length >= 1990, `${open.length} attackers connected`);
  const ticker = setInterval(() => { for (const c of open) if (!c.closed) c.sock.write('X-a: b\r\n'); }, 1000);
  try {
    const probes = [];
    for (let i = 0; i < 3; i++) {
      probes.push(await healthz(s, 3000));
      await sleep(500);
    }
    assert.deepEqual(probes, [200, 200, 200], 'the service is untouched');
    assert.ok(await until(() => open.every((c) => c.closed), 15000, 100),
              `attackers closed at the deadline (${open.filter((c) => !c.closed).length} still open)`);
  } finally {
    clearInterval(ticker);
    for (const c of open) c.sock.destroy();
  }
  assertAlive(s, 'after the slowloris run');
});

test('stays true: 2 000 idle keep-alive connections cost little memory each', async (t) => {
  const s = await stack(t);
  const pid = s.gw.proc.pid;
  assert.equal(await healthz(s), 200);
  const base = rssKiB(pid);
  const conns = await pool(2000, 100, async () => {
    const c = await openSocket(s.gw.port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => c.responses().length, 5000);
    return c;
  });
  try {
    await sleep(300);
    const grown = rssKiB(pid) - base;
    const perConn = grown / conns.length;
    t.diagnostic(`RSS +${Math.round(grown / 1024)} MiB for ${conns.length} idle connections ` +
                 `(${perConn.toFixed(1)} KiB each)`);
    assert.ok(conns.every((c) => c.responses()[0]?.status === 200 && !c.closed), 'all served and open');
    assert.ok(perConn < 16, `${perConn.toFixed(1)} KiB per idle connection`);
    assert.equal(await healthz(s), 200, 'new clients are served');
  } finally {
    for (const c of conns) c.sock.destroy();
  }
});

test('stays true: 100 clients that leave mid-stream cancel their upstream calls', async (t) => {
  const s = await stack(t);
  fake.reset();
  const n = 100;
  await pool(n, 25, async (i) => {
    const ac = new AbortController();
    const res = await streamGenerate(s.gw, `leave ${i} [[chunks=200 interval=50]]`,
                                     {token: s.token, signal: ac.signal});
    await sseEvents(res, {stopAfter: 1});
    ac.abort();
  });
  const st = await fake.waitFor((x) => x.aborted === n && x.active === 0, 10000).catch(() => null);
  assert.ok(st, `every upstream call cancelled: ${JSON.stringify({aborted: fake.stats().aborted,
                                                                 active: fake.stats().active})}`);
  assert.ok(st.abortedEvents.every((e) => e.chunksSent < 100), 'early in their streams');
});
