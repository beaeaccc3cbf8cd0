// GET /api/cron/health-check: guarded by CRON_SECRET (Bearer), probes every disabled or cooling
// key with a minimal generateContent on health_check_model, and brings back the keys that answer
// 200. The fake upstream flips keys at runtime to play a key that recovers.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, sequence, requestUntil} from '../support/stack.mjs';
import {call, generate, poolKey, clientToken} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

const CRON = '/api/cron/health-check';
const calls = (s, k) => s.fake.callsFor(k);
const cron = (s, secret) => call(s.gw, CRON, secret === undefined ? {} : {headers: {authorization: `Bearer ${secret}`}});

test('401 when CRON_SECRET is not set, whatever the client sends', async (t) => {
  const s = await stack(t, {keys: [poolKey('Invalid'), poolKey('Valid')]});
  for (const secret of [undefined, '', 'anything', s.token]) {
    const r = await cron(s, secret);
    assert.equal(r.status, 401, `secret ${JSON.stringify(secret)}: ${r.text.slice(0, 200)}`);
  }
  assert.equal(s.fake.stats().total, 0, 'nothing probed');
});

test('401 without the right bearer; the secret is not a client token either', async (t) => {
  const secret = `cron-${clientToken('secret')}`;
  const s = await stack(t, {cronSecret: secret, keys: [poolKey('Invalid'), poolKey('Valid')]});
  const wrong = [
    ['no header', undefined],
    ['wrong secret', `${secret}x`],
    ['client token', s.token],
  ];
  for (const [what, sec] of wrong) {
    const r = await cron(s, sec);
    assert.equal(r.status, 401, what);
    assert.ok(r.json?.error, `${what}: JSON error body`);
  }
  assert.equal((await call(s.gw, `${CRON}?key=${secret}`)).status, 401, 'secret in the query is refused');
  assert.equal((await call(s.gw, CRON, {headers: {'x-goog-api-key': secret}})).status, 401);
  assert.equal((await generate(s.gw, 'x', {token: secret})).status, 401, 'cron secret is not a client token');
  assert.equal(s.fake.stats().total, 0);
});

test('probes disabled keys on the health-check model and revives those that recovered', async (t) => {
  const secret = `cron-${clientToken('s')}`;
  const bad = poolKey('Invalid'), good = poolKey('Valid');
  const s = await stack(t, {cronSecret: secret, keys: [bad, good]});
  await requestUntil(s, () => calls(s, bad) === 1);
  s.fake.reset();

  const r1 = await cron(s, secret);
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.json.checked, 1, 'only the unhealthy key is probed');
  assert.equal(r1.json.reactivated, 0);
  assert.equal(r1.json.still_failing.length, 1);
  assert.ok(r1.json.still_failing[0].id !== undefined && r1.json.still_failing[0].reason,
            'still_failing entries have id and reason');
  assert.ok(!r1.text.includes(bad) && !r1.text.includes(good), 'no key in the answer');
  const probes = s.fake.requests();
  assert.equal(probes.length, 1);
  assert.equal(probes[0].key, bad);
  assert.equal(probes[0].model, 'gemini-2.5-flash-lite');
  assert.equal(probes[0].action, 'generateContent');
  await sequence(s, 3);
  assert.equal(calls(s, bad), 1, 'still out of rotation');

  s.fake.setKeyMode(bad, 'valid');
  const r2 = await cron(s, secret);
  assert.equal(r2.status, 200);
  assert.equal(r2.json.checked, 1);
  assert.equal(r2.json.reactivated, 1);
  assert.deepEqual(r2.json.still_failing, []);
  const before = calls(s, bad);
  await sequence(s, 4);
  assert.ok(calls(s, bad) > before, 'the revived key serves again');

  const r3 = await cron(s, secret);
  assert.equal(r3.json.checked, 0, 'nothing left to check');
});

test('probes cooling keys too, on health_check_model, and lifts that model\'s cooldown', async (t) => {
  // Quotas are per model: a 200 from the probe proves the key works for health_check_model, so
  // the test cools the key on that very model (set to gemini-2.5-flash here).
  const secret = `cron-${clientToken('s')}`;
  const q = poolKey('Cool'), good = poolKey('Valid');
  const s = await stack(t, {cronSecret: secret, keys: [q, good],
                            settings: {health_check_model: 'gemini-2.5-flash'}});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 600});
  await requestUntil(s, () => calls(s, q) === 1);
  s.fake.setKeyMode(q, 'valid');
  const r = await cron(s, secret);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.checked, 1, 'the cooling key is probed');
  assert.equal(r.json.reactivated, 1);
  assert.deepEqual(r.json.still_failing, []);
  const probe = s.fake.requests().at(-1);
  assert.equal(probe.key, q);
  assert.equal(probe.model, 'gemini-2.5-flash', 'probe uses health_check_model');
  const before = calls(s, q);
  await sequence(s, 4);
  assert.ok(calls(s, q) > before, 'the cooled-down key is back before its 600 s delay');
});
