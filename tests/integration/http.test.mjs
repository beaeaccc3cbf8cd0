// HTTP/1.1 front door, over raw sockets: request smuggling shapes and malformed framing are
// refused (400 + close, and nothing reaches the upstream), size limits answer 431/413 (413 before
// the body is even sent), and the good parts of HTTP/1.1 work: keep-alive, pipelining in order,
// chunked request bodies, Expect: 100-continue.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {rawRequest, genBody, answerText, sleep} from '../support/gateway.mjs';

let fake, s;
before(async () => {
  fake = await startFakeGemini();
  s = await startStack({fake});
});
beforeEach(() => { if (s) assertAlive('the previous test'); });
after(async () => {
  await s?.close();
  await fake.close();
});

const path = () => `/v1beta/models/gemini-2.5-flash:generateContent?key=${s.token}`;
const BODY = JSON.stringify(genBody('raw'));

/** A request head from lines (without the final empty line), CRLF-terminated. */
function head(lines) {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function post(extra, body = BODY, {cl = true} = {}) {
  const lines = [`POST ${path()} HTTP/1.1`, `Host: 127.0.0.1:${s.gw.port}`,
                 'Content-Type: application/json'];
  if (cl) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return head(lines.concat(extra)) + body;
}

/** Fails with the log tail when the gateway process died (e.g. crashed on the last input). */
function assertAlive(after) {
  if (s.gw.exitInfo) {
    assert.fail(`gemgate died after "${after}" (${JSON.stringify(s.gw.exitInfo)}); log tail:\n${
        s.gw.logs().slice(-1500)}`);
  }
}

/** Asserts a 4xx/5xx `status` answer (JSON error if it has a body), a close, and no upstream call. */
async function assertRefused(name, payload, statuses = [400], opts = {}) {
  const before = fake.stats().total;
  const r = await rawRequest(s.gw.port, payload, {responses: 1, settleMs: 1000, timeoutMs: 5000, ...opts});
  const got = r.responses[0];
  assert.ok(got, `${name}: no HTTP response (closed=${r.closed}, raw=${JSON.stringify(r.text.slice(0, 120))})`);
  assert.ok(statuses.includes(got.status), `${name}: status ${got.status}, want ${statuses.join('/')}`);
  assert.ok(r.closed, `${name}: connection must be closed after the error`);
  assert.equal(r.responses.filter((x) => x.status < 300).length, 0, `${name}: no 2xx at all`);
  if (got.body.length) assert.ok(got.json?.error, `${name}: error body is JSON: ${got.text.slice(0, 120)}`);
  await sleep(50);
  assertAlive(name);
  assert.equal(fake.stats().total - before, 0, `${name}: nothing reached the upstream`);
  return r;
}

test('a well-formed raw request works (baseline for the cases below)', async () => {
  const r = await rawRequest(s.gw.port, post([]), {responses: 1});
  assert.equal(r.responses[0]?.status, 200, r.text.slice(0, 300));
  assert.equal(answerText(r.responses[0].json), 'echo: raw');
});

test('smuggling shapes: CL+TE, duplicate or conflicting Content-Length → 400 + close', async () => {
  const chunked = `${Buffer.byteLength(BODY).toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
  await assertRefused('CL + TE', post(['Transfer-Encoding: chunked'], chunked));
  await assertRefused('TE + CL (TE first)', head([`POST ${path()} HTTP/1.1`, 'Host: x',
    'Transfer-Encoding: chunked', `Content-Length: ${Buffer.byteLength(BODY)}`]) + chunked);
  await assertRefused('two different Content-Length', post([`Content-Length: ${Buffer.byteLength(BODY) + 1}`]));
  await assertRefused('Content-Length list with different values',
                      post([`Content-Length: ${Buffer.byteLength(BODY)}, ${Buffer.byteLength(BODY) + 1}`], BODY, {cl: false}));
  await assertRefused('negative Content-Length', post(['Content-Length: -1'], '', {cl: false}));
  await assertRefused('hex Content-Length', post(['Content-Length: 0x10'], '', {cl: false}));
  await assertRefused('space before colon', post([`Content-Length : ${Buffer.byteLength(BODY)}`], BODY, {cl: false}));
  await assertRefused('unknown transfer coding', post(['Transfer-Encoding: xchunked'], chunked, {cl: false}), [400, 501]);
  await assertRefused('chunked not last', post(['Transfer-Encoding: chunked, identity'], chunked, {cl: false}), [400, 501]);
});

test('obs-fold and bare LF / bare CR line endings → 400 + close', async () => {
  await assertRefused('obs-fold', post(['X-Folded: part one', ' part two']));
  await assertRefused('obs-fold with tab', post(['X-Folded: part one', '\tpart two']));
  const bareLf = `POST ${path()} HTTP/1.1\nHost: x\nContent-Type: application/json\n` +
                 `Content-Length: ${Buffer.byteLength(BODY)}\n\n${BODY}`;
  await assertRefused('bare LF everywhere', bareLf);
  const oneLf = `POST ${path()} HTTP/1.1\r\nHost: x\nX-A: b\r\n` +
                `Content-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;
  await assertRefused('one bare LF', oneLf);
  await assertRefused('bare CR in a value', post(['X-A: b\rc']));
  await assertRefused('NUL in a value', post(['X-A: b\0c']));
});

test('bad chunk framing → 400 + close', async () => {
  const n = Buffer.byteLength(BODY).toString(16);
  const te = (chunks) => post(['Transfer-Encoding: chunked'], chunks, {cl: false});
  await assertRefused('0x prefix', te(`0x${n}\r\n${BODY}\r\n0\r\n\r\n`));
  await assertRefused('negative size', te(`-${n}\r\n${BODY}\r\n0\r\n\r\n`));
  await assertRefused('not hex', te(`zz\r\n${BODY}\r\n0\r\n\r\n`));
  await assertRefused('size overflow', te(`ffffffffffffffffffff\r\n${BODY}\r\n0\r\n\r\n`));
  await assertRefused('data longer than size', te(`2\r\n${BODY}\r\n0\r\n\r\n`));
  await assertRefused('bare LF after size', te(`${n}\n${BODY}\r\n0\r\n\r\n`));
});

test('header limits: > 32 KiB head or > 100 headers → 431; below the limits → 200', async () => {
  const big = Array.from({length: 40}, (_, i) => `X-Big-${i}: ${'a'.repeat(1000)}`);
  await assertRefused('40 KiB of headers', post(big), [431]);
  await assertRefused('one 33 KiB header', post([`X-Huge: ${'b'.repeat(33 * 1024)}`]), [431]);
  const many = Array.from({length: 120}, (_, i) => `X-H${i}: v`);
  await assertRefused('120 headers', post(many), [431]);
  const fine = Array.from({length: 20}, (_, i) => `X-Ok-${i}: ${'c'.repeat(1000)}`);
  const r = await rawRequest(s.gw.port, post(fine), {responses: 1});
  assert.equal(r.responses[0]?.status, 200, '20 KiB of headers are fine');
  const some = Array.from({length: 80}, (_, i) => `X-S${i}: v`);
  const r2 = await rawRequest(s.gw.port, post(some), {responses: 1});
  assert.equal(r2.responses[0]?.status, 200, '80 headers are fine');
});

test('Content-Length of 17 MiB → 413 before the body is sent', async () => {
  const before = fake.stats().total;
  const payload = head([`POST ${path()} HTTP/1.1`, 'Host: x', 'Content-Type: application/json',
                        `Content-Length: ${17 * 1024 * 1024}`]);
  const r = await rawRequest(s.gw.port, payload, {responses: 1, timeoutMs: 3000, settleMs: 500});
  const got = r.responses[0];
  assert.ok(got, `no answer before the body (timedOut=${r.timedOut}, closed=${r.closed})`);
  assert.equal(got.status, 413);
  assert.ok(r.ms < 1000, `answered within ${r.ms} ms without waiting for the body`);
  if (got.body.length) assert.ok(got.json?.error, 'JSON error');
  assert.equal(fake.stats().total - before, 0);
});

test('a chunked body growing past 16 MiB → 413 or close, never forwarded', async () => {
  const before = fake.stats().total;
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  const pieces = [head([`POST ${path()} HTTP/1.1`, 'Host: x', 'Content-Type: application/json',
                        'Transfer-Encoding: chunked'])];
  for (let i = 0; i < 17; i++) pieces.push(Buffer.concat([Buffer.from('100000\r\n'), mib, Buffer.from('\r\n')]));
  pieces.push('0\r\n\r\n');
  const r = await rawRequest(s.gw.port, pieces, {timeoutMs: 15000, responses: 1, settleMs: 1000});
  const got = r.responses[0];
  assert.ok(got ? got.status === 413 : r.closed, `413 or a close (got ${got?.status}, closed=${r.closed})`);
  assert.ok(!r.timedOut, 'the gateway did not just sit there');
  assert.equal(fake.stats().total - before, 0);
});

test('chunked request bodies are reassembled and forwarded', async () => {
  const before = fake.stats().total;
  const half = BODY.length >> 1;
  const a = BODY.slice(0, half), b = BODY.slice(half);
  const body = `${Buffer.byteLength(a).toString(16)}\r\n${a}\r\n${Buffer.byteLength(b).toString(16)};ext=1\r\n${b}\r\n0\r\n\r\n`;
  const r = await rawRequest(s.gw.port, post(['Transfer-Encoding: chunked'], body, {cl: false}), {responses: 1});
  assert.equal(r.responses[0]?.status, 200, r.text.slice(0, 300));
  assert.equal(fake.stats().total - before, 1);
  assert.equal(fake.requests().at(-1).body, BODY, 'upstream got the de-chunked body');
});

test('pipelined requests are answered in order', async () => {
  const reqs = ['first [[delay=300]]', 'second', 'third [[delay=100]]', 'fourth'].map((txt) => {
    const b = JSON.stringify(genBody(txt));
    return post([], b);
  });
  const r = await rawRequest(s.gw.port, reqs.join(''), {responses: 4, timeoutMs: 8000});
  assert.equal(r.responses.length, 4, r.text.slice(0, 300));
  assert.deepEqual(r.responses.map((x) => answerText(x.json)),
                   ['echo: first', 'echo: second', 'echo: third', 'echo: fourth']);
  assert.ok(!r.closed || r.responses.length === 4);
});

test('a small request pipelined behind a large one (many socket reads) is answered, in order', async () => {
  // The parser reads the worker's shared read buffer directly and copies only what it leaves:
  // the first body spans many reads and the second request starts inside the last of them.
  const big = JSON.stringify(genBody(`large ${'z'.repeat(600 << 10)}`));
  const small = JSON.stringify(genBody('small behind'));
  const before = fake.stats().total;
  const r = await rawRequest(s.gw.port, post([], big) + post([], small), {responses: 2, timeoutMs: 8000});
  assert.equal(r.responses.length, 2, r.text.slice(0, 300));
  assert.deepEqual(r.responses.map((x) => x.status), [200, 200]);
  assert.ok(answerText(r.responses[0].json).startsWith('echo: large zzz'));
  assert.equal(answerText(r.responses[1].json), 'echo: small behind');
  assert.equal(fake.stats().total - before, 2);
  assert.equal(fake.requests().at(-2).body, big, 'the large body reached the upstream whole');
  assert.equal(fake.requests().at(-1).body, small);
});

test('keep-alive: sequential requests reuse one connection', async () => {
  const agent = new http.Agent({keepAlive: true, maxSockets: 1});
  let sockets = 0;
  const reused = [];
  for (let i = 0; i < 5; i++) {
    const {status, text, reusedSocket} = await new Promise((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: s.gw.port, method: 'POST', path: path(), agent,
                                headers: {'content-type': 'application/json'}}, (res) => {
        let t = '';
        res.on('data', (c) => { t += c; });
        res.on('end', () => resolve({status: res.statusCode, text: t, reusedSocket: req.reusedSocket}));
      });
      req.on('socket', (sock) => { if (!sock.__counted) { sock.__counted = true; sockets++; } });
      req.on('error', reject);
      req.end(JSON.stringify(genBody(`ka ${i}`)));
    });
    assert.equal(status, 200, text);
    reused.push(reusedSocket);
  }
  agent.destroy();
  assert.equal(sockets, 1, 'one TCP connection for 5 requests');
  assert.deepEqual(reused, [false, true, true, true, true]);
});

test('Expect: 100-continue is handled', async () => {
  const r = await rawRequest(s.gw.port, [
    head([`POST ${path()} HTTP/1.1`, 'Host: x', 'Content-Type: application/json', 'Expect: 100-continue',
          `Content-Length: ${Buffer.byteLength(BODY)}`]),
    BODY,
  ], {responses: 1, gapMs: 300});
  assert.equal(r.responses[0]?.status, 200, r.text.slice(0, 300));
});

test('unknown paths and methods get JSON errors, not a crash', async () => {
  const r = await rawRequest(s.gw.port, head(['GET /no/such/route HTTP/1.1', 'Host: x']), {responses: 1});
  assert.equal(r.responses[0]?.status, 404);
  assert.ok(r.responses[0].json?.error, 'JSON error body');
  const h = await rawRequest(s.gw.port, head(['GET /healthz HTTP/1.1', 'Host: x']), {responses: 1});
  assert.equal(h.responses[0]?.status, 200, 'still serving');
});
