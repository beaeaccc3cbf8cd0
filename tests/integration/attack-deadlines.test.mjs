// Round 6's Deadlines (core/server/deadline.h: one uv timer for a connection's read, request,
// body-rate and write-stall deadlines, moved lazily) as a hostile client sees it: deadlines due at
// the same moment answer once, a deadline moved later many times does not fire early, a
// connection reset while deadlines are pending leaves nothing behind, and a request pipelined
// behind one that hit a deadline is never served. Asserts what happens, never how fast (the
// bounds are generous for a loaded 2-core machine). Helpers: tests/support/hostile-client.mjs.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {genBody, parseResponses, eventually, sleep} from '../support/gateway.mjs';
import {stacks, assertHealthy, baseline, generateBytes, connect, cap, echo,
        clientConnections} from '../support/hostile-client.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
const {stack, closeShared} = stacks(() => fake);
after(async () => {
  await closeShared();
  await fake.close();
});

/** Waits for the gateway to close `sock` (cap ms at most); returns the answers it sent. */
async function answersUntilClose(sock, capMs = 20000) {
  await Promise.race([sock.gone, cap(capMs)]);
  const closed = sock.destroyed || sock.readableEnded;
  const raw = Buffer.concat(sock.chunks);
  sock.destroy();
  return {closed, raw, statusLines: raw.toString('latin1').match(/HTTP\/1\.1 \d{3}/g) || [],
          ...parseResponses(raw, {closed: true})};
}

const POST_HEAD = (s, length) => `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
                                 `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
                                 `content-length: ${length}\r\n\r\n`;

test('the body gap, request and body-rate deadlines due at the same moment: one 408, then the close', async (t) => {
  // All three are set from the same loop time when the head arrives in one read.
  const s = await stack(t, {body_timeout: '1s', request_timeout: '1s', min_body_rate: '1KiB',
                            body_rate_window: '1s'});
  await baseline(s);
  for (let round = 0; round < 5; round++) {
    const sock = await connect(s.gw.port);
    sock.write(POST_HEAD(s, 100000) + '{"contents"');
    const got = await answersUntilClose(sock);
    assert.ok(got.closed, `round ${round}: the connection is closed`);
    assert.deepEqual(got.statusLines, ['HTTP/1.1 408'], `round ${round}: exactly one answer, a 408: ${got.raw.toString('latin1').slice(0, 300)}`);
  }
  await assertHealthy(s, 'simultaneous deadlines');
});

test('the head and request deadlines due at the same moment on a half-sent head: one 408', async (t) => {
  const s = await stack(t, {head_timeout: '1s', request_timeout: '1s'});
  await baseline(s);
  for (let round = 0; round < 5; round++) {
    const sock = await connect(s.gw.port);
    sock.write('POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\nx-goog-');
    const got = await answersUntilClose(sock);
    assert.ok(got.closed, `round ${round}: closed`);
    assert.deepEqual(got.statusLines, ['HTTP/1.1 408'], `round ${round}: exactly one 408`);
  }
  await assertHealthy(s, 'head and request deadlines together');
});

test('a body gap deadline moved later twenty times does not fire: the trickled request is served', async (t) => {
  // body_timeout 2s; a byte every 250 ms moves it later each time, for ~6 s in all (three times
  // the timeout) — the answer must be the 200, not a 408.
  const s = await stack(t, {body_timeout: '2s', request_timeout: '120s', min_body_rate: '0'});
  await baseline(s);
  const body = JSON.stringify(genBody('moved later'));
  const sock = await connect(s.gw.port);
  sock.write(POST_HEAD(s, Buffer.byteLength(body)));
  const pieces = [];
  const step = Math.ceil(body.length / 24);
  for (let i = 0; i < body.length; i += step) pieces.push(body.slice(i, i + step));
  for (const p of pieces) {
    await sleep(250);
    if (sock.destroyed) break;
    sock.write(p);
  }
  await eventually(() => parseResponses(Buffer.concat(sock.chunks)).responses.length === 1,
                   {timeoutMs: 20000, what: 'the answer'});
  const res = parseResponses(Buffer.concat(sock.chunks)).responses[0];
  assert.equal(res.status, 200, `the trickled request is served: ${res.text.slice(0, 200)}`);
  assert.equal(echo(res), 'echo: moved later');
  sock.destroy();
  await assertHealthy(s, 'the deadline moved later');
});

test('keep-alive moved later by twenty requests, then idle: each request served, then the idle close', async (t) => {
  const s = await stack(t, {keepalive_timeout: '1500ms'});
  await baseline(s);
  const sock = await connect(s.gw.port);
  for (let i = 0; i < 20; i++) {
    const before = Buffer.concat(sock.chunks).length;
    sock.write(generateBytes(s, `ka ${i}`));
    await eventually(() => parseResponses(Buffer.concat(sock.chunks).subarray(before)).responses.length === 1,
                     {timeoutMs: 15000, what: `answer ${i}`});
    assert.ok(!sock.destroyed && !sock.readableEnded, `request ${i}: the connection is still open`);
    await sleep(300);
  }
  const all = parseResponses(Buffer.concat(sock.chunks)).responses;
  assert.equal(all.length, 20);
  assert.deepEqual(all.map(echo), Array.from({length: 20}, (_, i) => `echo: ka ${i}`));
  await Promise.race([sock.gone, cap(20000)]);
  assert.ok(sock.destroyed || sock.readableEnded, 'the idle connection is closed afterwards');
  await assertHealthy(s, 'keep-alive moved later');
});

test('connections reset while their deadlines are pending: nothing fires into freed memory', async (t) => {
  const s = await stack(t, {head_timeout: '1s', body_timeout: '1s', request_timeout: '2s',
                            keepalive_timeout: '1s', write_timeout: '1s'});
  await baseline(s);
  const socks = [];
  for (let i = 0; i < 60; i++) {
    const sock = await connect(s.gw.port);
    // Each waits on a different deadline: a half head, a half body, an idle keep-alive
    // connection after an answer, a stream it does not read.
    if (i % 4 === 0) sock.write('POST /v1beta/models/x:generateContent HTTP/1.1\r\nHost: gw\r\n');
    if (i % 4 === 1) sock.write(POST_HEAD(s, 500) + '{"con');
    if (i % 4 === 2) sock.write(generateBytes(s, `idle ${i}`));
    if (i % 4 === 3) {
      sock.pause();
      const body = JSON.stringify(genBody(`unread ${i} [[chunks=200 pad=8000 interval=0]]`));
      sock.write(`POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\nHost: gw\r\n` +
                 `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
                 `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    socks.push(sock);
  }
  await sleep(400);
  // Half are reset (RST) before their deadlines, half just before and after.
  for (const [i, sock] of socks.entries()) {
    if (i % 2 === 0) sock.resetAndDestroy();
  }
  await sleep(900);
  for (const [i, sock] of socks.entries()) {
    if (i % 2 === 1) sock.resetAndDestroy();
  }
  // Past every deadline, twice over.
  await sleep(3000);
  await assertHealthy(s, 'resets with deadlines pending');
  assert.equal(clientConnections(s.gw), 0);
});

test('a request pipelined behind one that hit its body deadline is never served', async (t) => {
  const s = await stack(t, {body_timeout: '1s', min_body_rate: '0'});
  await baseline(s);
  const before = fake.stats().total;
  const body = JSON.stringify(genBody('first'));
  const sock = await connect(s.gw.port);
  // The first request's body stops half-way; after its 408 the client sends the rest and a
  // second, whole request on the same connection.
  sock.write(POST_HEAD(s, Buffer.byteLength(body)) + body.slice(0, 10));
  await eventually(() => /HTTP\/1\.1 408/.test(Buffer.concat(sock.chunks).toString('latin1')) || sock.destroyed,
                   {timeoutMs: 15000, what: 'the 408'});
  if (!sock.destroyed) {
    sock.write(body.slice(10) + generateBytes(s, 'smuggled [[chunks=1]]'), () => {});
  }
  const got = await answersUntilClose(sock);
  assert.ok(got.closed, 'the connection is closed after the 408');
  assert.deepEqual(got.statusLines, ['HTTP/1.1 408'], 'nothing is answered after the 408');
  await sleep(300);
  assert.equal(fake.requests().filter((r) => JSON.stringify(r.body || '').includes('smuggled')).length, 0,
               'the request behind the 408 never reached the upstream');
  assert.equal(fake.stats().total - before, 0, 'no upstream call at all for this connection');
  await assertHealthy(s, 'pipelined behind a deadline');
});

test('a request pipelined behind one that hit request_timeout under a trickled body is never served', async (t) => {
  const s = await stack(t, {request_timeout: '1500ms', body_timeout: '10s', min_body_rate: '0'});
  await baseline(s);
  const body = JSON.stringify(genBody('slow first'));
  const sock = await connect(s.gw.port);
  sock.write(POST_HEAD(s, Buffer.byteLength(body)));
  // One byte every 100 ms keeps the body gap happy, not the whole-request deadline; the second
  // request rides along once the 408 came.
  for (let i = 0; i < body.length && !sock.destroyed; i++) {
    if (/HTTP\/1\.1 408/.test(Buffer.concat(sock.chunks).toString('latin1'))) {
      sock.write(body.slice(i) + generateBytes(s, 'smuggled too'), () => {});
      break;
    }
    sock.write(body[i]);
    await sleep(100);
  }
  const got = await answersUntilClose(sock);
  assert.ok(got.closed, 'closed after the 408');
  assert.deepEqual(got.statusLines, ['HTTP/1.1 408'], 'only the 408');
  assert.equal(fake.requests().filter((r) => JSON.stringify(r.body || '').includes('smuggled too')).length, 0,
               'the second request never reached the upstream');
  await assertHealthy(s, 'pipelined behind request_timeout');
});
