// Regression tests for review findings in the client connection (fixed in 2e275f1):
//  3. one connection that does not read its (large) answer and keeps sending must not make the
//     gateway buffer without bound (the bug took it to 2 GB in 8 s); others are served meanwhile;
//  6. the write timeout is about progress: a slow but steady reader gets a large answer that takes
//     longer than write_timeout to send, whole; a reader that stops entirely is disconnected;
//  7. an upstream that fails mid-stream is not a client abort: the client sees the stream cut,
//     the stored row keeps status 200 with an error, and the access line does not say
//     "client-aborted".
// Checked against the code before the fix: the junk flood, the default-config pipelining flood,
// the slow reader of one large answer and the mid-stream reset fail there. The others guard the
// same promises from other sides (a stalled reader is still cut; pipelined answers under a higher
// max_requests_per_connection; a streamed answer to a slow reader) — those last two fail with the
// fix as committed too: see the report that came with this file.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {DEFAULT_CONFIG, buildConfig, generate, streamGenerate, sseEvents, parseResponses,
        rawRequest, sleep, eventually} from '../support/gateway.mjs';
import {adminStack, api, ok, gatewayLogs} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** A valid generateContent answer whose text is `n` letters (the JSON is a little longer). */
function bigAnswer(n) {
  return JSON.stringify({
    candidates: [{content: {role: 'model', parts: [{text: 'x'.repeat(n)}]}, finishReason: 'STOP',
                  index: 0}],
    usageMetadata: {promptTokenCount: 2, candidatesTokenCount: 5, totalTokenCount: 7},
    modelVersion: 'gemini-2.5-flash',
    responseId: 'big',
  });
}

/** conf/gemgate.yaml with the given `limits:` entries replaced ({write_timeout: '2s'}). */
function configWithLimits(limits) {
  let text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  for (const [name, value] of Object.entries(limits)) {
    const patched = text.replace(new RegExp(`^(\\s+${name}:\\s*)\\S+`, 'm'), `$1${value}`);
    assert.notEqual(patched, text, `conf/gemgate.yaml has limits.${name}`);
    text = patched;
  }
  return buildConfig({configYaml: text});
}

const configWithWriteTimeout = (value) => configWithLimits({write_timeout: value});

/** The bytes of a generateContent request for the gateway on a raw socket. */
function rawGenerate(s, {close = true, model = 'gemini-2.5-flash'} = {}) {
  const body = JSON.stringify({contents: [{role: 'user', parts: [{text: 'big please'}]}]});
  return `POST /v1beta/models/${model}:generateContent HTTP/1.1\r\n` +
         `Host: 127.0.0.1:${s.gw.port}\r\nx-goog-api-key: ${s.token}\r\n` +
         `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
         `${close ? 'Connection: close\r\n' : ''}\r\n${body}`;
}

/** Resident memory of a process in KiB, from /proc/<pid>/status. */
function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : NaN;
}

/** Opens a TCP connection to the gateway; resolves once connected. Later errors are recorded. */
async function connect(port) {
  const sock = net.connect({host: '127.0.0.1', port});
  sock.errors = [];
  sock.on('error', (e) => sock.errors.push(e.code || String(e)));
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return sock;
}

/**
 * Writes `junk` on `sock` as fast as the socket takes it (respecting backpressure, so this
 * process does not balloon) for `ms`, calling sample() every 50 ms. Resolves to bytes written.
 */
async function flood(sock, junk, ms, sample) {
  let written = 0;
  const end = Date.now() + ms;
  const timer = setInterval(sample, 50);
  try {
    while (Date.now() < end && !sock.destroyed) {
      if (!sock.write(junk)) {
        await Promise.race([new Promise((r) => sock.once('drain', r)),
                            sleep(Math.max(0, end - Date.now()))]);
      } else {
        await new Promise((r) => setImmediate(r));
      }
      written += junk.length;
    }
  } finally {
    clearInterval(timer);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// 3. Unbounded memory from one connection

/**
 * Runs one flood: `request` is sent, the answer is never read, and `junk` is written for ~3 s.
 * Checks the gateway's RSS growth and that other clients are served meanwhile. Hooks: setup()
 * runs after the warm-up request, sent() is awaited between the request and the flood.
 */
async function assertBoundedFlood(t, s, request, junk, what, {setup = () => {}, sent} = {}) {
  const pid = s.gw.proc.pid;
  // Warm up (allocator, upstream connection) before taking the baseline.
  assert.equal((await generate(s.gw, 'warm up', {token: s.token})).status, 200);
  setup();  // after the warm-up, which must not use what it prepares
  const base = rssKiB(pid);
  let peak = base;
  const sample = () => { peak = Math.max(peak, rssKiB(pid)); };

  const sock = await connect(s.gw.port);
  sock.write(request);
  if (sent) await sent();
  const others = (async () => {
    await sleep(1200);
    const out = [];
    for (let i = 0; i < 4; i++) {  // separate connections, so both workers get some
      const r = await rawRequest(s.gw.port,
                                 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                                 {responses: 1, timeoutMs: 3000});
      out.push(r.responses[0]?.status ?? `none (${r.timedOut ? 'timeout' : r.error})`);
    }
    return out;
  })();
  const written = await flood(sock, junk, 3000, sample);
  sample();
  const statuses = await others;
  sock.destroy();

  const grewMiB = (peak - base) / 1024;
  const info = `${what}: RSS ${Math.round(base / 1024)} MiB → peak ${Math.round(peak / 1024)} ` +
               `MiB; junk accepted by the socket: ${Math.round(written / 1048576)} MiB`;
  t.diagnostic(info);
  assert.ok(grewMiB < 100, `memory must stay bounded: ${info}`);
  assert.deepEqual(statuses, [200, 200, 200, 200], `others are served meanwhile (${info})`);
  const r = await generate(s.gw, 'after', {token: s.token, timeoutMs: 5000});
  assert.equal(r.status, 200, 'and afterwards');
  assert.equal(s.gw.exitInfo, null, 'the gateway is still running');
  return {grewMiB, written};
}

test('3: a client that sends junk behind a large unread answer (Connection: close) stays bounded',
     async (t) => {
  const s = await startStack({fake});
  t.after(() => s.close());
  // The junk starts once the exchange is over (its access line is written) while the 8 MB answer
  // is still queued: that is when the old code buffered every byte the client sent. (Junk sent
  // while the exchange runs stops the reading, in the old code too.) The big answer goes to a
  // model of its own so that its access line cannot be mistaken for the warm-up's.
  const model = 'gemini-2.5-pro';
  const finished = () => s.gw.logs().includes(`/v1beta/models/${model}:generateContent 200 `);
  const junk = Buffer.alloc(256 << 10, 'j');
  await assertBoundedFlood(t, s, rawGenerate(s, {close: true, model}), junk,
                           'junk after a Connection: close request', {
    setup: () => s.fake.script({match: {pathIncludes: `${model}:generateContent`},
                                body: bigAnswer(8 << 20)}),
    sent: () => eventually(finished, {what: 'the exchange to finish'}),
  });
  assert.equal(s.fake.stats().scriptsPending, 0, 'the large answer was served');
});

// Locally answered requests (public admin assets) pipelined by a client that reads nothing: the
// answers pile up in the write queue unless the connection stops serving while its output is
// backed up. With the default max_requests_per_connection (1000) the pile is capped at 1000
// answers; with a higher limit only flow control can bound it.
const ASSET = '/admin/assets/i18n.js';  // the largest public answer (~21 KB)

/** Floods `s` with pipelined GETs of ASSET for ~3 s, reading nothing; asserts the bound. */
async function assetFlood(t, s, what) {
  const r = await fetch(`${s.gw.url}${ASSET}`);
  assert.equal(r.status, 200, `${ASSET} is public`);
  assert.ok((await r.arrayBuffer()).byteLength > 10000, `${ASSET} is a sizeable answer`);
  const one = Buffer.from(`GET ${ASSET} HTTP/1.1\r\nHost: 127.0.0.1:${s.gw.port}\r\n\r\n`);
  const many = Buffer.concat(Array(2048).fill(one));
  await assertBoundedFlood(t, s, many, many, what);
}

test('3: a client that pipelines requests for an admin asset without reading stays bounded',
     async (t) => {
  const s = await startStack({fake});
  t.after(() => s.close());
  await assetFlood(t, s, `pipelined GET ${ASSET}`);
});

test('3: pipelined answers wait for a client that does not read (max_requests_per_connection 1e5)',
     async (t) => {
  const configYaml = configWithLimits({max_requests_per_connection: 100000});
  const s = await startStack({fake, configYaml});
  t.after(() => s.close());
  await assetFlood(t, s, `pipelined GET ${ASSET}, 100000 requests allowed`);
});

// ---------------------------------------------------------------------------------------------
// 6. Write timeout is about progress, not total time

/**
 * Sends `request` on a raw socket and reads the answer in slices: `sliceBytes` then a pause of
 * `pauseMs` (readDelayMs before the first byte is read). Resolves to {raw, ms, closedBy, errors}.
 */
async function slowRead(port, request, {sliceBytes, pauseMs, readDelayMs = 0, timeoutMs = 30000}) {
  const sock = await connect(port);
  const t0 = Date.now();
  const chunks = [];
  let inSlice = 0;
  sock.pause();
  return new Promise((resolve) => {
    const done = (closedBy) => {
      clearTimeout(cap);
      sock.destroy();
      resolve({raw: Buffer.concat(chunks), ms: Date.now() - t0, closedBy, errors: sock.errors});
    };
    const cap = setTimeout(() => done('timeout'), timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      inSlice += c.length;
      if (inSlice >= sliceBytes) {
        inSlice = 0;
        sock.pause();
        setTimeout(() => sock.resume(), pauseMs);
      }
    });
    sock.on('end', () => done('server'));
    sock.on('close', () => done('server'));
    sock.write(request);
    setTimeout(() => sock.resume(), readDelayMs);
  });
}

test('6: with write_timeout 2s a slow, steady reader gets a large answer whole', async (t) => {
  const s = await startStack({fake, configYaml: configWithWriteTimeout('2s')});
  t.after(() => s.close());
  const n = 6 << 20;
  const answer = bigAnswer(n);
  s.fake.script({match: {pathIncludes: ':generateContent'}, body: answer});
  const r = await slowRead(s.gw.port, rawGenerate(s), {sliceBytes: 256 << 10, pauseMs: 300});
  const parsed = parseResponses(r.raw, {closed: true});
  const res = parsed.responses[0];
  t.diagnostic(`${r.raw.length} bytes in ${r.ms} ms, closed by ${r.closedBy}`);
  assert.ok(res, `an answer (${r.raw.length} bytes, ${r.closedBy})`);
  assert.equal(res.status, 200, res.text.slice(0, 200));
  assert.ok(r.ms > 4000, `the transfer took longer than two write timeouts (${r.ms} ms) — ` +
                         'otherwise this test proves nothing');
  assert.equal(res.truncated, false,
               `the answer arrived whole after ${r.ms} ms: ${res.body.length} body bytes`);
  assert.equal(res.json?.candidates?.[0]?.content?.parts?.[0]?.text?.length, n,
               'valid and complete JSON');
});

/**
 * A stream of `count` events of `eventBytes` letters, all available upstream at once, to a
 * client that takes 64 KiB every 100 ms (~640 KiB/s, never a pause near the write timeout):
 * the gateway's flow control keeps its backlog topped up and every event must arrive.
 */
async function slowSteadyStream(t, {writeTimeout, timeoutMs, count, eventBytes, letter}) {
  const s = await startStack({fake, configYaml: configWithWriteTimeout(writeTimeout)});
  t.after(() => s.close());
  const events = Array.from({length: count}, (_, i) => ({
    candidates: [{content: {role: 'model', parts: [{text: `${i}:${letter.repeat(eventBytes)}`}]},
                  index: 0}],
  }));
  s.fake.script({match: {pathIncludes: 'streamGenerateContent'}, sse: events});
  const body = JSON.stringify({contents: [{role: 'user', parts: [{text: 'stream big'}]}]});
  const req = `POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n` +
              `Host: x\r\nx-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
              `content-length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  const r = await slowRead(s.gw.port, req, {sliceBytes: 64 << 10, pauseMs: 100});
  const res = parseResponses(r.raw, {closed: true}).responses[0];
  t.diagnostic(`${r.raw.length} bytes in ${r.ms} ms, closed by ${r.closedBy}`);
  assert.ok(res, `an answer (${r.raw.length} bytes, ${r.closedBy})`);
  assert.equal(res.status, 200);
  assert.ok(r.ms > 2 * timeoutMs,
            `the transfer took longer than two write timeouts (${r.ms} ms)`);
  const got = res.text.split(/\r?\n\r?\n/).filter((b) => b.startsWith('data:')).length;
  const line = s.gw.logs().split('\n').find((l) => /streamGenerateContent/.test(l)) || '(none)';
  assert.equal(res.truncated, false, `the stream ended cleanly after ${r.ms} ms ` +
                                     `(${got}/${count} events); access line: ${line}`);
  assert.equal(got, count, 'every event arrived');
}

test('6: with write_timeout 2s a streamed answer to a slow, steady reader arrives whole',
     async (t) => {
  // 400 events of 16 KiB (6.5 MB).
  await slowSteadyStream(t, {writeTimeout: '2s', timeoutMs: 2000, count: 400,
                             eventBytes: 16 << 10, letter: 'y'});
});

// The kernel's send buffer on loopback grows to megabytes, and Linux wakes a writer only once a
// third of it is free: a reader taking 640 KiB/s may drain the gateway's socket for more than a
// second without the gateway handing the kernel a byte. Progress is what reaches the client,
// not what the kernel accepted, or a steady reader looks stalled (whatever the event size or
// the upstream's receive buffer).
test('6: with write_timeout 1s a stream of small events to a slow, steady reader arrives whole',
     async (t) => {
  // 1600 events of 4 KiB (6.5 MB): megabytes beyond the kernel's buffers.
  await slowSteadyStream(t, {writeTimeout: '1s', timeoutMs: 1000, count: 1600,
                             eventBytes: 4 << 10, letter: 'z'});
});

test('6: with write_timeout 2s a client that stops reading is disconnected', async (t) => {
  const s = await startStack({fake, configYaml: configWithWriteTimeout('2s')});
  t.after(() => s.close());
  const answer = bigAnswer(8 << 20);
  s.fake.script({match: {pathIncludes: ':generateContent'}, body: answer});
  // Read nothing for write_timeout + 2 s, then everything as fast as possible: if the gateway
  // had kept the connection, the whole answer would now arrive.
  const r = await slowRead(s.gw.port, rawGenerate(s), {sliceBytes: Infinity, pauseMs: 0,
                                                       readDelayMs: 4000});
  const res = parseResponses(r.raw, {closed: true}).responses[0];
  t.diagnostic(`${r.raw.length} bytes in ${r.ms} ms, closed by ${r.closedBy}`);
  assert.equal(r.closedBy, 'server', 'the gateway closed the connection');
  assert.ok(r.raw.length < answer.length,
            `the answer was cut (${r.raw.length} of ${answer.length}+ bytes received)`);
  assert.ok(!res || res.truncated, 'the client can tell the answer is incomplete');
  assert.ok(r.ms < 6500, `closed by the time the client came back (${r.ms} ms)`);
});

// ---------------------------------------------------------------------------------------------
// 7. Upstream failure mid-stream is not a client abort

test('7: upstream reset mid-stream: stream cut, row 200 with an error, not client-aborted',
     async (t) => {
  const s = await adminStack(t, fake);
  const res = await streamGenerate(s.gw, 'tell me [[chunks=5 interval=50 reset_after=2]]',
                                   {token: s.token});
  assert.equal(res.status, 200);
  const ev = await sseEvents(res);
  assert.equal(ev.events.length, 2,
               `the two chunks sent before the reset arrive: ${ev.raw.slice(0, 300)}`);
  assert.equal(ev.complete, false, 'the client sees the stream cut, not a clean end');

  const row = await eventually(async () => {
    const j = ok(await api(s, 'GET', '/admin/api/logs?kind=request'));
    return j.items.find((x) => /streamGenerateContent/.test(x.path));
  }, {what: 'the request-log row'});
  assert.equal(row.status, 200, `stored status: ${JSON.stringify(row)}`);
  assert.equal(row.stream, true);
  assert.ok(typeof row.error === 'string' && row.error.length > 0,
            `the row says what failed: ${JSON.stringify(row)}`);

  const accessLine = () => gatewayLogs(s).split('\n')
                              .find((l) => /streamGenerateContent/.test(l) && / 200 /.test(l));
  const line = await eventually(accessLine, {what: 'the access line'});
  assert.doesNotMatch(line, /client-aborted/, `the access line: ${line}`);
  assert.match(line, /error=/, `the access line names the error: ${line}`);
});
