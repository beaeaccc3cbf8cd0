// Key failover: for each class of upstream failure, the exact number of calls each pool key gets,
// what the client sees, and which keys end up out of rotation. Keys are named after the fake
// upstream behaviour they trigger (poolKey('Invalid') → 400 API_KEY_INVALID, ...).
//
// Round-robin may start at any key, so counts are asserted over several requests: e.g. with keys
// [invalid, valid], N requests must cost exactly N + 1 upstream calls and the invalid key must be
// called exactly once, whichever request met it.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, sequence, requestUntil} from '../support/stack.mjs';
import {call, generate, streamGenerate, sseEvents, timedBody, poolKey, geminiErrorProblem,
        genBody} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

const calls = (s, k) => s.fake.callsFor(k);

for (const [tag, what] of [['Invalid', '400 API_KEY_INVALID'], ['Denied', '403 PERMISSION_DENIED'],
                           ['Unauth', '401 UNAUTHENTICATED']]) {
  test(`${what}: key disabled at once, request retried on another key`, async (t) => {
    const bad = poolKey(tag), good = poolKey('Valid');
    const s = await stack(t, {keys: [bad, good]});
    const rs = await sequence(s, 6);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(calls(s, bad), 1, 'the bad key was tried exactly once');
    assert.equal(calls(s, good), 6, 'the good key served every request');
    assert.deepEqual(rs.map((r) => r.calls).sort(), [1, 1, 1, 1, 1, 2],
                     'one request paid one extra attempt, no other');
    await sequence(s, 4);
    assert.equal(calls(s, bad), 1, 'a disabled key is never called again');
  });
}

test('429 quota: key cooled down, request retried on another key', async (t) => {
  const q = poolKey('Quota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good]});
  const rs = await sequence(s, 6);
  assert.ok(rs.every((r) => r.status === 200));
  assert.equal(calls(s, q), 1, 'the cooling key (RetryInfo 30s) is not called again');
  assert.equal(calls(s, good), 6);
});

for (const [tag, what] of [['Overload', '503 overloaded'], ['Error500', '500 INTERNAL'],
                           ['Reset', 'connection reset']]) {
  // Transient failures never disable a key: 3 in a row (max_failures) open its breaker for
  // 0.5-1 s, after which one trial may go through (tests/reliability/upstream-outage covers it).
  test(`${what}: retried on another key; 3 consecutive failures open the key's breaker`, async (t) => {
    const bad = poolKey(tag), good = poolKey('Valid');
    const s = await stack(t, {keys: [bad, good]});
    const rs = await sequence(s, 10);
    assert.deepEqual(rs.map((r) => r.status), Array(10).fill(200), 'the client never saw the failures');
    assert.ok(calls(s, bad) >= 3 && calls(s, bad) <= 4, `three strikes, then out (${calls(s, bad)})`);
    assert.equal(calls(s, good), 10);
    const struck = calls(s, bad);
    await sequence(s, 4);
    assert.ok(calls(s, bad) <= struck + 1, 'the open breaker keeps the key out (one half-open trial at most)');
  });
}

test('a success resets the consecutive-failure count', async (t) => {
  const k = poolKey('Flaky'), good = poolKey('Valid');
  const s = await stack(t, {keys: [k, good]});
  s.fake.setKeyMode(k, 'overload');
  await requestUntil(s, () => calls(s, k) === 2);          // two failures
  s.fake.setKeyMode(k, 'valid');
  await requestUntil(s, () => calls(s, k) === 3);          // one success: count back to 0
  s.fake.setKeyMode(k, 'overload');
  await requestUntil(s, () => calls(s, k) === 6);          // three more failures: breaker open
  await sequence(s, 8);
  assert.ok(calls(s, k) <= 7, 'out of rotation only after 3 failures in a row (F F S F F F)');
});

test('at most 3 attempts per request, each on a different key', async (t) => {
  const keys = [poolKey('Error500'), poolKey('Error500'), poolKey('Error500'), poolKey('Error500')];
  const s = await stack(t, {keys});
  const r = await generate(s.gw, 'x', {token: s.token});
  assert.ok(r.status >= 500 && r.status <= 504, `5xx to the client, got ${r.status}`);
  assert.equal(geminiErrorProblem(r.json), '', r.text.slice(0, 300));
  const used = s.fake.requests().map((x) => x.key);
  assert.equal(used.length, 3, `3 upstream attempts, got ${used.length}`);
  assert.equal(new Set(used).size, 3, 'each attempt on a different key');
});

test('client mistakes (bad JSON, unknown model, missing contents) are not retried nor penalised', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const s = await stack(t, {keys});
  const bad = async (what, fn, wantStatus, wantGoogleStatus) => {
    for (let i = 0; i < 6; i++) {
      const before = s.fake.stats().total;
      const r = await fn();
      assert.equal(r.status, wantStatus, `${what}: ${r.text.slice(0, 200)}`);
      assert.equal(geminiErrorProblem(r.json, wantStatus), '', `${what}: ${r.text.slice(0, 200)}`);
      assert.equal(r.json.error.status, wantGoogleStatus, what);
      assert.ok(s.fake.stats().total - before <= 1, `${what}: no retry`);
    }
  };
  await bad('unknown model', () => generate(s.gw, 'x', {token: s.token, model: 'gemini-9-ultra'}),
            404, 'NOT_FOUND');
  await bad('invalid JSON', () => call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent', {
    token: s.token, body: '{"contents": [', headers: {'content-type': 'application/json'}}),
            400, 'INVALID_ARGUMENT');
  await bad('missing contents', () => call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent',
                                           {token: s.token, body: {}}), 400, 'INVALID_ARGUMENT');
  const nf = await generate(s.gw, 'x', {token: s.token, model: 'gemini-9-ultra'});
  assert.match(nf.json.error.message, /gemini-9-ultra/, 'the upstream 404 message is passed on');
  // 18 client errors spread over 2 keys would have disabled both if they counted as failures.
  const rs = await sequence(s, 4);
  assert.ok(rs.every((r) => r.status === 200));
  const after = s.fake.stats().callsByModel;
  for (const k of keys) {
    assert.ok((after[k]?.['gemini-2.5-flash'] || 0) >= 1, 'both keys still in rotation');
  }
});

test('all keys dead: fast 503 in Gemini error shape, no upstream call, no key in the body', async (t) => {
  const keys = [poolKey('Invalid'), poolKey('Denied')];
  const s = await stack(t, {keys});
  const first = await generate(s.gw, 'x', {token: s.token});
  assert.notEqual(first.status, 200);
  assert.equal(s.fake.stats().total, 2, 'each key tried once');
  for (let i = 0; i < 3; i++) {
    const r = await generate(s.gw, 'x', {token: s.token});
    assert.equal(r.status, 503, r.text.slice(0, 300));
    assert.equal(geminiErrorProblem(r.json, 503), '', r.text.slice(0, 300));
    assert.equal(r.json.error.status, 'UNAVAILABLE');
    assert.ok(r.ms < 500, `fast (${r.ms} ms)`);
    for (const k of keys) assert.ok(!r.text.includes(k), 'no pool key in the error');
  }
  assert.equal(s.fake.stats().total, 2, 'no further upstream calls');
});

test('a hanging key times out (first-byte timeout), is retried elsewhere, and aborted upstream', async (t) => {
  const hang = poolKey('Hang'), good = poolKey('Valid');
  const s = await stack(t, {keys: [hang, good],
                            settings: {upstream_first_byte_timeout_ms: 800, upstream_total_timeout_ms: 20000}});
  const rs = await sequence(s, 8);
  assert.deepEqual(rs.map((r) => r.status), Array(8).fill(200));
  assert.equal(calls(s, hang), 3, 'three timeouts open the key\'s breaker');
  const slowOnes = rs.filter((r) => r.calls === 2);
  assert.equal(slowOnes.length, 3);
  for (const r of slowOnes) assert.ok(r.ms >= 700 && r.ms < 3000, `timed out after ~800 ms (${r.ms})`);
  await s.fake.waitFor((st) => st.aborted === 3 && st.active === 0, 2000);
});

test('failover works for SSE streams and for JSON-array streams (errors wrapped in an array)', async (t) => {
  const bad = poolKey('Invalid'), q = poolKey('Quota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [bad, q, good]});
  for (let i = 0; i < 3; i++) {
    const res = await streamGenerate(s.gw, `sse ${i} [[chunks=3 interval=10]]`, {token: s.token});
    assert.equal(res.status, 200);
    const out = await sseEvents(res);
    assert.equal(out.events.length, 3);
    assert.ok(out.complete);
  }
  assert.equal(calls(s, bad), 1);
  assert.equal(calls(s, q), 1);
  assert.equal(calls(s, good), 3);

  // Without alt=sse Google wraps errors as [{"error": ...}]: the gateway must still see
  // API_KEY_INVALID / RESOURCE_EXHAUSTED in them.
  const bad2 = poolKey('Invalid'), q2 = poolKey('Quota'), good2 = poolKey('Valid');
  const s2 = await stack(t, {keys: [bad2, q2, good2]});
  for (let i = 0; i < 3; i++) {
    const res = await streamGenerate(s2.gw, `arr ${i} [[chunks=3 interval=10]]`, {token: s2.token, sse: false});
    assert.equal(res.status, 200, `request ${i}`);
    const body = await timedBody(res);
    assert.equal(JSON.parse(body.text).length, 3);
  }
  assert.equal(calls(s2, bad2), 1, 'invalid key (array-wrapped 400) disabled after one call');
  assert.equal(calls(s2, q2), 1, 'quota key (array-wrapped 429) cooling after one call');
  assert.equal(calls(s2, good2), 3);
});

test('embeddings and countTokens fail over too', async (t) => {
  const bad = poolKey('Invalid'), good = poolKey('Valid');
  const s = await stack(t, {keys: [bad, good]});
  for (let i = 0; i < 2; i++) {
    const r = await call(s.gw, '/v1beta/models/text-embedding-004:embedContent',
                         {token: s.token, body: {content: {parts: [{text: `e${i}`}]}}});
    assert.equal(r.status, 200);
    const c = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens',
                         {token: s.token, body: genBody('abcd')});
    assert.equal(c.status, 200);
  }
  assert.equal(calls(s, bad), 1);
});
