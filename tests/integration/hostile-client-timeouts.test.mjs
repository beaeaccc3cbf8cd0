// The client connection's timeouts as a slow or stalled client sees them, against what round 5
// changed: the lazy deadlines of core/server/deadline.h (slowloris heads and bodies, idle
// keep-alive, request_timeout under a body that keeps every other limit happy: each still closes
// the connection, and a connection in use is not closed early), the write-stall timer's SIOCOUTQ
// progress check (a reader of one byte per second is closed; steady slow readers get everything;
// a client that stops reading after a pipelined burst is closed), and a graceful stop with output
// queued. Asserts that the close happens, never how fast. Helpers: tests/support/hostile-client.mjs.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {genBody, parseResponses, sseEvents, eventually, sleep} from '../support/gateway.mjs';
import {METRICS_TOKEN, stacks, clientConnections, assertHealthy, baseline, generateBytes,
        closingGenerate, streamBytes, connect, cap, echo, tricklingReader,
        steadyRead} from '../support/hostile-client.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
const {stack, closeShared} = stacks(() => fake);
after(async () => {
  await closeShared();
  await fake.close();
});

// ---------------------------------------------------------------------------------------------
// The write-stall timer (progress measured at the client's end)

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
// A graceful stop with output queued

test('SIGTERM with streams in flight, unread pipelined output queued and resets meanwhile: streams finish, exit 0', async (t) => {
  const s = await startStack({fake, env: {METRICS_TOKEN}});
  t.after(() => s.close());
  await baseline(s);
  const streams = Array.from({length: 8}, (_, i) => fetch(
      `${s.gw.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
        method: 'POST', headers: {'x-goog-api-key': s.token, 'content-type': 'application/json'},
        body: JSON.stringify(genBody(`term ${i} [[chunks=10 interval=40]]`))}).then((res) => sseEvents(res)));
  const unread = [];
  for (let i = 0; i < 3; i++) {
    const sock = await connect(s.gw.port);
    sock.pause();
    let text = '';
    for (let k = 0; k < 10; k++) text += streamBytes(s, `unread ${i}.${k} [[chunks=10 pad=8000 interval=0]]`);
    sock.write(text);
    unread.push(sock);
  }
  await sleep(100);
  const stopped = s.gw.stop();
  await sleep(50);
  for (const sock of unread.slice(0, 2)) sock.resetAndDestroy();
  for (const [i, out] of (await Promise.all(streams)).entries()) {
    assert.ok(out.complete, `stream ${i} completed (${out.error})`);
    assert.equal(out.events.length, 10, `stream ${i}: every event after SIGTERM`);
  }
  const {code} = await stopped;
  assert.equal(code, 0, `exit status (log tail: ${s.gw.logs().slice(-600)})`);
  for (const sock of unread) sock.destroy();
});
