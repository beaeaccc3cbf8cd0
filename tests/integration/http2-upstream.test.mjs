// The gateway against an upstream that speaks TLS + HTTP/2, as Google's API does (libcurl
// negotiates h2 by ALPN): the stand-in over https (startFakeGemini({tls: true}), its own
// certificate trusted through GEMGATE_UPSTREAM_CA_FILE) records per request the HTTP version
// and the session it came on, so each case can say what went over one multiplexed connection:
// plain and streamed answers, 50 requests at once, a streamed 8 MiB upload to a slow reader and
// one reset mid-body, one slow SSE client among fast streams, an RST_STREAM on one stream, a 429
// failover, a GOAWAY, and a session that dies without one.
// One worker, so every request of a test goes through the same libcurl connection pool.
// Each test ends by checking it left nothing behind (no open upstream request, the gateway
// answers, no secret in its log).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import crypto from 'node:crypto';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {sequence} from '../support/stack.mjs';
import {DEFAULT_CONFIG, generate, streamGenerate, sseEvents, poolKey, eventually, sleep,
        parseResponses, httpRequest, patternPieces} from '../support/gateway.mjs';
import {adminStack, keyOf, assertNoSecrets} from './admin-lib.mjs';

const MiB = 1024 * 1024;
let fake;
before(async () => { fake = await startFakeGemini({tls: true}); });
after(async () => { await fake.close(); });

/** conf/gemgate.yaml with one worker (one libcurl pool: the test's requests share sessions). */
function oneWorker() {
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  const out = text.replace(/^workers: .*$/m, 'workers: 1');
  assert.notEqual(out, text, 'conf/gemgate.yaml has a top-level workers setting');
  return out;
}

async function stack(t, keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]) {
  return adminStack(t, fake, {keys, configYaml: oneWorker()});
}

/** The fake's records of the requests whose body contains `marker`. */
const seen = (marker) => fake.requests().filter((r) => r.body.includes(marker));

/** Nothing stuck upstream, the gateway still answers, over HTTP/2, and its log holds no secret. */
async function leftNothing(s) {
  await fake.waitFor((x) => x.active === 0, 5000);
  const r = await generate(s.gw, 'after-check', {token: s.token});
  assert.equal(r.status, 200, r.text);
  assert.equal(seen('after-check').at(-1).httpVersion, '2.0');
  assertNoSecrets(s.gw.logs(), 'the gateway log');
}

test('generateContent and streamGenerateContent answer correctly over HTTP/2', async (t) => {
  const s = await stack(t);
  const r = await generate(s.gw, 'plain-h2', {token: s.token});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.candidates[0].content.parts[0].text, 'echo: plain-h2');
  const res = await streamGenerate(s.gw, 'stream-h2 [[chunks=4 interval=10]]', {token: s.token});
  assert.equal(res.status, 200);
  const out = await sseEvents(res);
  assert.ok(out.complete, `stream ended cleanly (${out.error})`);
  assert.equal(out.events.length, 4);
  assert.equal(out.events.at(-1).json.candidates[0].finishReason, 'STOP');
  for (const m of ['plain-h2', 'stream-h2']) {
    assert.deepEqual(seen(m).map((x) => x.httpVersion), ['2.0'], `${m} went over HTTP/2`);
  }
  assert.equal(seen('plain-h2')[0].session, seen('stream-h2')[0].session, 'one session for both');
  await leftNothing(s);
});

test('50 concurrent requests: all answered, multiplexed on few sessions', async (t) => {
  const s = await stack(t);
  assert.equal((await generate(s.gw, 'warm', {token: s.token})).status, 200);
  const rs = await Promise.all(Array.from({length: 50}, (_, i) =>
      generate(s.gw, `burst-${i} [[delay=200]]`, {token: s.token})));
  rs.forEach((r, i) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.candidates[0].content.parts[0].text, `echo: burst-${i}`);
  });
  const reqs = seen('burst-');
  assert.equal(reqs.length, 50, 'each request reached the upstream once');
  assert.ok(reqs.every((x) => x.httpVersion === '2.0'));
  const used = new Set(reqs.map((x) => x.session));
  assert.ok(used.size <= 3, `50 requests on ${used.size} sessions`);
  const busiest = Math.max(...fake.sessions().filter((x) => used.has(x.id)).map((x) => x.maxConcurrent));
  assert.ok(busiest >= 10, `at most ${busiest} streams at once on one session: not multiplexed`);
  await leftNothing(s);
});

function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))[1]) * 1024;
  return {rss: kb('VmRSS'), peak: kb('VmHWM')};
}

/** Starts a resumable upload of `size` bytes through the gateway; resolves to its upload URL. */
async function startUpload(s, size, name) {
  const start = await fetch(`${s.gw.url}/upload/v1beta/files`, {
    method: 'POST',
    headers: {'x-goog-api-key': s.token, 'content-type': 'application/json',
              'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
              'x-goog-upload-header-content-length': String(size),
              'x-goog-upload-header-content-type': 'application/octet-stream'},
    body: JSON.stringify({file: {displayName: name}}),
  });
  await start.arrayBuffer();
  assert.equal(start.status, 200);
  const url = new URL(start.headers.get('x-goog-upload-url'));
  assert.equal(url.origin, s.gw.url);
  return url;
}

/** Sends `size` bytes of the upload at `url` with `command` at offset 0 (httpRequest's answer). */
function sendUpload(s, url, size, command = 'upload, finalize') {
  return httpRequest(s.gw.port, 'POST', url.pathname + url.search, {
    body: patternPieces(size),
    headers: {'x-goog-api-key': s.token, 'content-type': 'application/octet-stream',
              'x-goog-upload-command': command, 'x-goog-upload-offset': '0',
              'content-length': String(size)}});
}

test('a streamed 8 MiB resumable upload arrives intact over HTTP/2; a slow reader holds it back', async (t) => {
  const s = await stack(t);
  const size = 8 * MiB;
  const uploadUrl = await startUpload(s, size, 'h2-upload');
  fake.slowBodyReads({everyBytes: 256 * 1024, pauseMs: 25});
  const before = rssOf(s.gw.proc.pid);
  const r = await sendUpload(s, uploadUrl, size);
  fake.slowBodyReads(null);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.file.sizeBytes, String(size));
  const bytes = fake.fileBytes(r.json.file.name);
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), r.sentSha256, 'the bytes arrived intact');
  const growth = rssOf(s.gw.proc.pid).peak - before.rss;
  assert.ok(growth < size / 2, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB for an 8 MiB body`);
  const calls = fake.requests().filter((x) => x.path === '/upload/v1beta/files');
  assert.equal(calls.length, 2, 'start, then one upload + finalize');
  assert.ok(calls.every((x) => x.httpVersion === '2.0'), 'both over HTTP/2');
  assert.equal(calls[1].bodyBytes, size);
  await leftNothing(s);
});

test('RST_STREAM in the middle of a streamed upload: an error, nothing counted, the upload resumes', async (t) => {
  const s = await stack(t);
  const size = 4 * MiB;
  const url = await startUpload(s, size, 'h2-cut');
  const session = fake.requests().at(-1).session;
  fake.resetBodyOnce(MiB);
  const cut = await sendUpload(s, url, size).catch((e) => ({status: 0, error: e.code}));
  // 502, or 503 when the pool took the reset of its only key for an upstream outage; or the
  // connection closed while the client was still sending.
  assert.ok([0, 502, 503].includes(cut.status), `${cut.status} ${cut.text ?? cut.error}`);
  if (cut.status) assert.equal(cut.json?.error?.status, 'UNAVAILABLE', cut.text);
  assert.equal(fake.stats().resets, 1);
  let q;
  await eventually(async () => {  // past the outage gate's short pause, if it closed
    q = await sendUpload(s, url, 0, 'query');
    return q.status === 200;
  }, {timeoutMs: 10000, intervalMs: 200, what: 'the query to answer 200'});
  assert.equal(q.headers['x-goog-upload-size-received'], '0', 'the cut body counted for nothing');
  const again = await sendUpload(s, url, size);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.file.sizeBytes, String(size));
  const bytes = fake.fileBytes(again.json.file.name);
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), again.sentSha256);
  assert.equal(fake.sessions().find((x) => x.id === session).closed, false, 'a stream reset, not the session');
  for (const k of s.keys) assert.notEqual((await keyOf(s, k)).status, 'disabled', 'no key disabled');
  await leftNothing(s);
});

/** Sends a streamGenerateContent request on a raw socket that reads nothing until read(). */
function slowSseClient(port, token, text) {
  const body = JSON.stringify({contents: [{role: 'user', parts: [{text}]}]});
  const sock = net.connect(port, '127.0.0.1');
  sock.pause();
  sock.write(`POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n` +
             `Host: x\r\nx-goog-api-key: ${token}\r\ncontent-type: application/json\r\n` +
             `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  return {
    /** Reads everything until the gateway closes; resolves to the raw bytes. */
    read: () => new Promise((resolve) => {
      const parts = [];
      sock.on('data', (c) => parts.push(c));
      sock.on('close', () => resolve(Buffer.concat(parts)));
      sock.resume();
    }),
    destroy: () => sock.destroy(),
  };
}

/**
 * Opens a slow SSE client of `chunks` events of `pad` letters, waits until the buffers between
 * the fake and it are full, then runs 8 fast streams on the same gateway; returns what they saw.
 */
async function slowAmongFast(t, s, chunks, pad) {
  assert.equal((await generate(s.gw, 'warm', {token: s.token})).status, 200);
  const slow = slowSseClient(s.gw.port, s.token, `slow-reader [[chunks=${chunks} interval=0 pad=${pad}]]`);
  t.after(() => slow.destroy());
  await eventually(() => seen('slow-reader').length === 1, {what: 'the slow stream upstream'});
  await sleep(300);  // let the buffers between the fake and the client fill
  const fast = await Promise.all(Array.from({length: 8}, async (_, i) => {
    const res = await streamGenerate(s.gw, `fast-${i} [[chunks=20 interval=0 pad=8192]]`, {token: s.token});
    return {status: res.status, out: await sseEvents(res)};
  }));
  const session = seen('slow-reader')[0].session;
  assert.ok(seen('fast-').every((x) => x.session === session),
            `the fast streams shared the slow one's session ${session}: ${seen('fast-').map((x) => x.session)}`);
  return {slow, fast};
}

test('a slow SSE client does not stall the session: other streams on it finish, its own arrives whole', async (t) => {
  const s = await stack(t);
  const chunks = 400, pad = 32 * 1024;  // ~26 MiB: more than the sockets and windows hold
  const {slow, fast} = await slowAmongFast(t, s, chunks, pad);
  for (const f of fast) {
    assert.equal(f.status, 200);
    assert.ok(f.out.complete, `a fast stream ended cleanly (${f.out.error})`);
    assert.equal(f.out.events.length, 20);
  }
  const raw = await slow.read();
  const {responses} = parseResponses(raw, {closed: true});
  assert.equal(responses[0]?.status, 200);
  const events = raw.toString('utf8').split('\r\n\r\n').filter((e) => e.includes('data: {'));
  assert.equal(events.length, chunks, 'every event reached the slow client once it read');
  assert.match(events.at(-1), /"finishReason": ?"STOP"/);
  await leftNothing(s);
});

// libcurl 7.88 (Debian 12) grants every HTTP/2 stream a 32 MiB receive window and pauses a
// stream only by shrinking it, which takes back no credit already granted: once other streams
// on the session need reading, a paused stream's data comes along and libcurl buffers it. The
// gateway caps each stream's window (transports/h2_window.h, 1 MiB), so a client that stops
// reading costs at most that much in the gateway and the rest waits upstream, held by flow
// control; nothing is lost once the client reads.
test('a slow SSE client among fast streams holds its answer back upstream, not in the gateway; ' +
     'it arrives whole once read', async (t) => {
  const s = await stack(t);
  const chunks = 400, pad = 32 * 1024;  // ~26 MiB: far more than the capped window
  // The fast streams once first, so what they cost the gateway (buffers, allocator, TLS) is
  // already in the baseline and the growth below is the slow client's.
  await Promise.all(Array.from({length: 8}, async (_, i) =>
    sseEvents(await streamGenerate(s.gw, `warm-${i} [[chunks=20 interval=0 pad=8192]]`, {token: s.token}))));
  const before = rssOf(s.gw.proc.pid);
  const {slow, fast} = await slowAmongFast(t, s, chunks, pad);
  for (const f of fast) assert.ok(f.out.complete && f.out.events.length === 20, 'a fast stream ended cleanly');
  await sleep(500);
  assert.equal(fake.stats().active, 1, 'the slow stream is still held back upstream');
  const growth = rssOf(s.gw.proc.pid).rss - before.rss;
  t.diagnostic(`gateway RSS growth for the slow client: ${(growth / MiB).toFixed(2)} MiB`);
  assert.ok(growth < 4 * MiB, `gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB for one slow client`);
  const raw = await slow.read();
  const events = raw.toString('utf8').split('\r\n\r\n').filter((e) => e.includes('data: {'));
  assert.equal(events.length, chunks, 'every event reached the slow client once it read');
  assert.match(events.at(-1), /"finishReason": ?"STOP"/);
  await leftNothing(s);
});

/** A cut stream is told apart from a complete one: broken framing, or an error event. */
const wasCut = (out) => !out.complete || out.events.some((e) => e.json?.error || e.event === 'error');

test('RST_STREAM on one stream: that client sees a cut stream, the others on the session finish', async (t) => {
  const s = await stack(t);
  assert.equal((await generate(s.gw, 'warm', {token: s.token})).status, 200);
  const run = async (text) => {
    const res = await streamGenerate(s.gw, text, {token: s.token});
    return {status: res.status, out: await sseEvents(res)};
  };
  const [cut, ...others] = await Promise.all([
    run('rst-victim [[chunks=10 interval=40 reset_after=3]]'),
    ...Array.from({length: 4}, (_, i) => run(`rst-bystander-${i} [[chunks=10 interval=40]]`)),
  ]);
  assert.equal(cut.status, 200);
  assert.equal(cut.out.events.filter((e) => e.json?.candidates).length, 3, 'the 3 events before the reset');
  assert.ok(wasCut(cut.out), 'the client can tell the stream was cut short');
  for (const o of others) {
    assert.ok(o.out.complete, `a bystander ended cleanly (${o.out.error})`);
    assert.equal(o.out.events.length, 10);
  }
  const victim = seen('rst-victim');
  assert.equal(victim.length, 1, 'never retried after the first byte');
  const session = fake.sessions().find((x) => x.id === victim[0].session);
  assert.ok(seen('rst-bystander').every((x) => x.session === session.id), 'all on one session');
  assert.equal(session.closed, false, 'a stream reset, not the connection');
  assert.equal(fake.stats().resets, 1);
  const key = await keyOf(s, victim[0].key);
  assert.notEqual(key.status, 'disabled', 'a reset stream does not disable its key');
  await leftNothing(s);
});

test('a 429 on one key fails over to another key over HTTP/2', async (t) => {
  const q = poolKey('Quota');
  const s = await stack(t, [q, poolKey('Valid'), poolKey('Valid')]);
  const rs = await sequence(s, 6, 'quota-h2');
  assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  assert.equal(fake.callsFor(q), 1, 'the cooling key is not called again');
  assert.deepEqual(rs.map((r) => r.calls).sort(), [1, 1, 1, 1, 1, 2], 'one request paid one retry');
  assert.ok(seen('quota-h2').every((x) => x.httpVersion === '2.0'));
  assert.equal((await keyOf(s, q)).status, 'cooling');
  await leftNothing(s);
});

test('GOAWAY: a stream in flight finishes, later requests open a new session and succeed', async (t) => {
  const s = await stack(t);
  assert.equal((await generate(s.gw, 'before-goaway', {token: s.token})).status, 200);
  const first = seen('before-goaway')[0].session;
  const res = await streamGenerate(s.gw, 'in-flight [[chunks=6 interval=100]]', {token: s.token});
  let sent = false;
  const out = await sseEvents(res, {onEvent: () => {
    if (!sent) setImmediate(() => fake.goaway());  // outside the reader: a throw fails the test
    sent = true;
  }});
  assert.ok(out.complete, `the stream in flight ended cleanly (${out.error})`);
  assert.equal(out.events.length, 6);
  await eventually(() => fake.sessions().find((x) => x.id === first).closed,
                   {what: 'the old session to close'});
  const rs = await sequence(s, 3, 'after-goaway');
  assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
  const later = seen('after-goaway');
  assert.equal(later.length, 3, 'no retries were needed');
  assert.ok(later.every((x) => x.session > first && x.httpVersion === '2.0'), 'a new HTTP/2 session');
  await leftNothing(s);
});

test('the session dies without GOAWAY: the cut stream is told, the waiting request retried, keys kept', async (t) => {
  const s = await stack(t);
  assert.equal((await generate(s.gw, 'before-drop', {token: s.token})).status, 200);
  const first = seen('before-drop')[0].session;
  const waiting = generate(s.gw, 'drop-waiting [[delay=400]]', {token: s.token});
  const res = await streamGenerate(s.gw, 'drop-stream [[chunks=10 interval=50]]', {token: s.token});
  assert.equal(res.status, 200);
  let dropped = false;
  const out = await sseEvents(res, {onEvent: () => {
    if (!dropped) setImmediate(() => fake.dropSessions());  // outside the reader: a throw fails
    dropped = true;
  }});
  assert.ok(wasCut(out), 'the client can tell the stream was cut short');
  assert.ok(fake.sessions().find((x) => x.id === first).closed, 'the session is gone');
  assert.equal(seen('drop-stream').length, 1, 'a stream is never retried after its first byte');
  const w = await waiting;
  assert.equal(w.status, 200, `the request still waiting for its head is retried: ${w.text}`);
  assert.ok(seen('drop-waiting').at(-1).session > first, 'its retry went over a new session');
  const rs = await sequence(s, 3, 'after-drop');
  assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
  assert.ok(seen('after-drop').every((x) => x.session > first && x.httpVersion === '2.0'));
  for (const k of s.keys) assert.notEqual((await keyOf(s, k)).status, 'disabled', 'no key disabled');
  await leftNothing(s);
});
