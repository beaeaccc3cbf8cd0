// Quota cooldowns: a key that answered 429 is left alone for the RetryInfo delay (for that model
// only), comes back afterwards, and when every key is cooling the client gets a fast 429 with
// Retry-After instead of a pointless round of upstream calls.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, sequence, requestUntil} from '../support/stack.mjs';
import {generate, poolKey, geminiErrorProblem, sleep} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

const calls = (s, k) => s.fake.callsFor(k);
const callTimes = (s, k) => s.fake.requests().filter((r) => r.key === k).map((r) => r.time);

/** Keeps sending requests every `everyMs` for `forMs`; returns their statuses. */
async function trafficFor(s, forMs, everyMs = 100, o = {}) {
  const end = Date.now() + forMs;
  const statuses = [];
  while (Date.now() < end) {
    statuses.push((await generate(s.gw, 'traffic', {token: s.token, ...o})).status);
    await sleep(everyMs);
  }
  return statuses;
}

test('RetryInfo.retryDelay is honoured: the key rests for the delay, then serves again', async (t) => {
  const q = poolKey('Cool'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good]});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 2});
  await requestUntil(s, () => calls(s, q) === 1);
  const struckAt = callTimes(s, q)[0];
  s.fake.setKeyMode(q, 'valid');  // if the gateway called it now, it would succeed: it must not
  const statuses = await trafficFor(s, struckAt + 1500 - Date.now());
  assert.ok(statuses.every((x) => x === 200));
  assert.equal(calls(s, q), 1, 'not called during the 2 s cooldown');
  await requestUntil(s, () => calls(s, q) === 2, {max: 200, pauseMs: 50, text: 'after'});
  const backAt = callTimes(s, q)[1];
  assert.ok(backAt - struckAt >= 1900, `called again ${backAt - struckAt} ms after the 429 (want ≥ 2000)`);
  assert.ok(backAt - struckAt < 6000, `and not much later (${backAt - struckAt} ms)`);
});

test('a cooldown applies to the model that ran out, not to the others', async (t) => {
  const q = poolKey('ProQuota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good]});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 60, models: ['gemini-2.5-pro']});
  await requestUntil(s, () => calls(s, q) === 1, {model: 'gemini-2.5-pro'});
  await sequence(s, 4, 'pro', {model: 'gemini-2.5-pro'});
  await sequence(s, 4, 'flash', {model: 'gemini-2.5-flash'});
  const byModel = s.fake.stats().callsByModel[q];
  assert.equal(byModel['gemini-2.5-pro'], 1, 'cooling for gemini-2.5-pro');
  assert.ok(byModel['gemini-2.5-flash'] >= 1, 'still serving gemini-2.5-flash');
});

test('all keys cooling: fast 429 with Retry-After, no upstream call', async (t) => {
  const keys = [poolKey('Quota'), poolKey('Quota')];
  const s = await stack(t, {keys});
  const first = await generate(s.gw, 'x', {token: s.token});
  assert.equal(first.status, 429, first.text.slice(0, 300));
  assert.equal(s.fake.stats().total, 2, 'both keys tried once');
  for (let i = 0; i < 3; i++) {
    const r = await generate(s.gw, 'x', {token: s.token});
    assert.equal(r.status, 429);
    assert.equal(geminiErrorProblem(r.json, 429), '', r.text.slice(0, 300));
    assert.equal(r.json.error.status, 'RESOURCE_EXHAUSTED');
    const ra = r.headers.get('retry-after');
    assert.match(ra || '', /^\d+$/, `Retry-After in seconds, got ${ra}`);
    assert.ok(Number(ra) >= 1 && Number(ra) <= 31, `Retry-After ≈ the 30 s RetryInfo, got ${ra}`);
    assert.ok(r.ms < 500, `fast (${r.ms} ms)`);
    for (const k of keys) assert.ok(!r.text.includes(k));
  }
  assert.equal(s.fake.stats().total, 2, 'no upstream call while all keys cool down');
  // Other models are not affected by the cooldown of gemini-2.5-flash.
  s.fake.setKeyMode(keys[0], 'valid');
  const other = await generate(s.gw, 'x', {token: s.token, model: 'gemini-2.5-pro'});
  assert.equal(other.status, 200);
});

test('a 429 without RetryInfo cools the key for cooldown_default_s', async (t) => {
  const q = poolKey('Bare'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good], settings: {cooldown_default_s: 2}});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 'none'});
  await requestUntil(s, () => calls(s, q) === 1);
  const struckAt = callTimes(s, q)[0];
  s.fake.setKeyMode(q, 'valid');
  await trafficFor(s, struckAt + 1500 - Date.now());
  assert.equal(calls(s, q), 1, 'resting for cooldown_default_s');
  await requestUntil(s, () => calls(s, q) === 2, {max: 200, pauseMs: 50});
  assert.ok(callTimes(s, q)[1] - struckAt >= 1900);
});

test('cooldown_max_s caps a long RetryInfo delay', async (t) => {
  const q = poolKey('Long'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good], settings: {cooldown_max_s: 2}});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 3600});
  await requestUntil(s, () => calls(s, q) === 1);
  const struckAt = callTimes(s, q)[0];
  s.fake.setKeyMode(q, 'valid');
  await requestUntil(s, () => calls(s, q) === 2, {max: 200, pauseMs: 50});
  assert.ok(callTimes(s, q)[1] - struckAt < 6000, 'back after ~cooldown_max_s, not an hour');
});
