// Streaming through the gateway: events are forwarded as they arrive (not buffered), a client
// that goes away stops the upstream transfer within a second, and an upstream failure after the
// first byte ends the client's stream without a retry and without a fake clean end.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, streamGenerate, sseEvents, timedBody, poolKey, sleep} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid')], ...opts});
  t.after(() => s.close());
  return s;
}

/** A cut stream is told apart from a complete one: broken framing, or an error event. */
const wasCut = (out) => !out.complete || out.events.some((e) => e.json?.error || e.event === 'error');
const texts = (events) => events.map((e) => e.json?.candidates?.[0]?.content?.parts?.[0]?.text).join('');

for (const prefix of ['/v1beta', '/gemini/v1beta']) {
  test(`SSE (${prefix}): events arrive spread over time, bytes unchanged`, async (t) => {
    const s = await stack(t);
    const res = await streamGenerate(s.gw, 'tick [[chunks=8 interval=150]]', {token: s.token, prefix});
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^text\/event-stream/);
    const out = await sseEvents(res);
    assert.ok(out.complete, `stream ended cleanly (${out.error})`);
    assert.equal(out.events.length, 8);
    assert.equal(texts(out.events), 'echo: tick #1 #2 #3 #4 #5 #6 #7');
    // Forwarded as they come, not at the end: the first event arrives well before the last (the
    // upstream spreads them over 1050 ms), in several separate moments. Lower bounds only, so
    // a loaded machine cannot fail it.
    const span = out.events.at(-1).at - out.events[0].at;
    assert.ok(span >= 500, `events spread over ${span} ms (upstream spread them over 1050 ms)`);
    const arrivals = new Set(out.events.map((e) => e.at));
    assert.ok(arrivals.size >= 3, `events arrived in ≥ 3 separate moments (got ${arrivals.size})`);
    assert.match(out.raw, /^data: \{"candidates".*\}\r\n\r\ndata: /, 'SSE framing passed through');
    assert.equal(s.fake.stats().total, 1);
  });
}

test('JSON-array stream (no alt=sse) arrives incrementally and parses', async (t) => {
  const s = await stack(t);
  const res = await streamGenerate(s.gw, 'arr [[chunks=8 interval=150]]', {token: s.token, sse: false});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  const body = await timedBody(res);
  assert.ok(body.complete, body.error);
  const arr = JSON.parse(body.text);
  assert.equal(arr.length, 8);
  assert.equal(texts(arr.map((json) => ({json}))), 'echo: arr #1 #2 #3 #4 #5 #6 #7');
  // Lower bounds only (see the SSE case): several reads, the first well before the last.
  assert.ok(body.chunks.length >= 3, `arrived in ${body.chunks.length} reads`);
  assert.ok(body.chunks.at(-1).at - body.chunks[0].at >= 500, 'spread over time');
});

test('client disconnect mid-stream aborts the upstream within 1 s', async (t) => {
  const s = await stack(t);
  const ac = new AbortController();
  const res = await streamGenerate(s.gw, 'long [[chunks=100 interval=200]]', {token: s.token, signal: ac.signal});
  const out = await sseEvents(res, {stopAfter: 3});
  assert.equal(out.events.length, 3);
  const closedAt = Date.now();
  ac.abort();
  const st = await s.fake.waitFor((x) => x.aborted === 1 && x.active === 0, 1000).catch(() => null);
  assert.ok(st, `upstream not aborted within 1 s: ${JSON.stringify(s.fake.stats())}`);
  assert.ok(st.abortedEvents[0].at - closedAt <= 1000);
  assert.ok(st.abortedEvents[0].chunksSent < 20, 'the upstream stopped early in the stream');
  const again = await generate(s.gw, 'still fine', {token: s.token});
  assert.equal(again.status, 200, 'gateway healthy afterwards');
});

test('client disconnect before the first byte (slow head) aborts the upstream within 1 s', async (t) => {
  const s = await stack(t);
  for (const sse of [true, false]) {
    s.fake.reset();
    const ac = new AbortController();
    const pending = streamGenerate(s.gw, 'wait [[delay=10000]]', {token: s.token, signal: ac.signal, sse})
        .catch((e) => e);
    await s.fake.waitFor((x) => x.active === 1, 2000);
    await sleep(300);
    const closedAt = Date.now();
    ac.abort();
    await pending;
    const st = await s.fake.waitFor((x) => x.aborted === 1 && x.active === 0, 1000).catch(() => null);
    assert.ok(st, `sse=${sse}: upstream not aborted within 1 s: ${JSON.stringify(s.fake.stats())}`);
    assert.ok(st.abortedEvents[0].at - closedAt <= 1000);
    assert.equal(st.total, 1, 'no retry of an abandoned request');
  }
});

test('client disconnect during a non-streaming call aborts the upstream within 1 s', async (t) => {
  const s = await stack(t);
  const ac = new AbortController();
  const pending = generate(s.gw, 'slow [[delay=10000]]', {token: s.token, signal: ac.signal}).catch((e) => e);
  await s.fake.waitFor((x) => x.active === 1, 2000);
  await sleep(300);
  const closedAt = Date.now();
  ac.abort();
  await pending;
  const st = await s.fake.waitFor((x) => x.aborted === 1 && x.active === 0, 1000).catch(() => null);
  assert.ok(st, `upstream not aborted within 1 s: ${JSON.stringify(s.fake.stats())}`);
  assert.ok(st.abortedEvents[0].at - closedAt <= 1000);
});

test('upstream reset mid-stream: client stream is cut (no clean end), no retry', async (t) => {
  const s = await stack(t);
  const res = await streamGenerate(s.gw, 'cut [[chunks=10 interval=30 reset_after=3]]', {token: s.token});
  assert.equal(res.status, 200);
  const out = await sseEvents(res);
  assert.equal(out.events.filter((e) => e.json?.candidates).length, 3, 'the 3 events sent before the reset');
  assert.ok(wasCut(out), 'the client can tell the stream was cut short');
  assert.ok(!out.raw.includes('[DONE]'));
  await sleep(200);
  assert.equal(s.fake.stats().total, 1, 'never retried after the first byte');
});

test('upstream reset in a non-streaming body: a 5xx JSON error or a visibly cut answer', async (t) => {
  const s = await stack(t);
  // The upstream sends its head and half the JSON, then resets. The client must be able to tell:
  // either a 5xx JSON error, or a response whose framing breaks (fetch rejects). A complete-looking
  // 200 would hand the client a truncated document as if it were whole.
  let r;
  try {
    r = await generate(s.gw, 'half [[reset_after=1]]', {token: s.token});
  } catch (e) {
    return;  // the cut is visible to the client
  }
  assert.notEqual(r.status, 200, `a truncated upstream body became a complete 200: ${r.text.slice(0, 200)}`);
  assert.ok(r.status >= 500, `got ${r.status}`);
  assert.ok(r.json?.error, 'JSON error body');
});

test('an error event mid-stream is forwarded as is, no retry', async (t) => {
  const s = await stack(t);
  const res = await streamGenerate(s.gw, 'err [[chunks=10 interval=20 error_after=2]]', {token: s.token});
  const out = await sseEvents(res);
  assert.equal(out.events.length, 3);
  assert.equal(out.events[2].json?.error?.code, 500);
  assert.equal(s.fake.stats().total, 1);
});

test('an upstream that stalls mid-stream is cut after upstream_idle_timeout_ms', async (t) => {
  const s = await stack(t, {settings: {upstream_idle_timeout_ms: 1000}});
  const t0 = Date.now();
  const res = await streamGenerate(s.gw, 'stall [[chunks=10 interval=10 hang_after=2]]', {token: s.token});
  const out = await sseEvents(res);
  const ms = Date.now() - t0;
  assert.equal(out.events.filter((e) => e.json?.candidates).length, 2);
  assert.ok(ms >= 900 && ms < 15000, `cut after ~1 s of silence, long before the stream's own end (${ms} ms)`);
  assert.ok(wasCut(out), 'the stream does not end as if it were complete');
  await s.fake.waitFor((x) => x.aborted === 1 && x.active === 0, 1000);
  assert.equal(s.fake.stats().total, 1, 'no retry after the first byte');
});

test('a long, steady stream is not cut by the idle timeout', async (t) => {
  const s = await stack(t, {settings: {upstream_idle_timeout_ms: 1000}});
  const res = await streamGenerate(s.gw, 'steady [[chunks=12 interval=400]]', {token: s.token});
  const out = await sseEvents(res);
  assert.ok(out.complete, out.error);
  assert.equal(out.events.length, 12, 'a 4.4 s stream with 400 ms gaps passes a 1 s idle timeout');
});

test('blocked prompts and function calls pass through the stream unchanged', async (t) => {
  const s = await stack(t);
  const blocked = await sseEvents(await streamGenerate(s.gw, 'x [[block]]', {token: s.token}));
  assert.equal(blocked.events[0].json.promptFeedback.blockReason, 'SAFETY');
  const fc = await call(s.gw, '/v1beta/models/gemini-2.5-pro:generateContent',
                        {token: s.token, body: {contents: [{role: 'user', parts: [{text: 'w [[call=get_weather]]'}]}]}});
  const part = fc.json.candidates[0].content.parts[0];
  assert.equal(part.functionCall.name, 'get_weather');
  assert.ok(part.thoughtSignature, 'thoughtSignature kept');
});
