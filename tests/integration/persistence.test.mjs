// Key health survives a restart: a key disabled or cooling before a graceful stop is still out of
// rotation after the gateway starts again on the same data dir. The fake upstream flips such
// keys to "valid" before the restart, so a gateway that forgot their state would call them (and
// succeed), which the call counts would show.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, sequence, requestUntil} from '../support/stack.mjs';
import {poolKey} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

const calls = (s, k) => s.fake.callsFor(k);

test('a disabled key stays disabled after a restart', async (t) => {
  const bad = poolKey('Invalid'), good = poolKey('Valid');
  const s = await stack(t, {keys: [bad, good]});
  const n = await requestUntil(s, () => calls(s, bad) === 1);
  const stopped = await s.gw.stop();
  assert.equal(stopped.code, 0, `graceful stop exits 0 (${JSON.stringify(stopped)})`);
  s.fake.setKeyMode(bad, 'valid');
  await s.gw.restart();
  const rs = await sequence(s, 6);
  assert.ok(rs.every((r) => r.status === 200));
  assert.equal(calls(s, bad), 1, 'not called after the restart');
  assert.equal(calls(s, good), n + 6, 'the good key served every request');
});

test('a quota cooldown survives a restart', async (t) => {
  const q = poolKey('Cool'), good = poolKey('Valid');
  const s = await stack(t, {keys: [q, good]});
  s.fake.setKeyMode(q, 'quota', {retryDelay: 120});
  await requestUntil(s, () => calls(s, q) === 1);
  await s.gw.stop();
  s.fake.setKeyMode(q, 'valid');
  await s.gw.restart();
  await sequence(s, 6);
  assert.equal(calls(s, q), 1, 'still cooling after the restart');
});

test('healthy keys keep serving after a restart, and data is kept', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const s = await stack(t, {keys});
  await sequence(s, 2);
  for (let i = 0; i < 2; i++) {
    await s.gw.restart();
    s.fake.reset();
    const rs = await sequence(s, 4);
    assert.ok(rs.every((r) => r.status === 200), `restart ${i + 1}`);
    for (const k of keys) assert.ok(calls(s, k) >= 1, 'both keys still in rotation');
    assert.equal(s.fake.stats().total, 4, 'no duplicate keys or retries after a restart');
  }
});

test('API_KEYS at a later start adds missing keys and never changes stored ones', async (t) => {
  // gemgate's --help: keys are "added to storage at start when missing"; the database stays the
  // source of truth, so a key still listed in API_KEYS is not revived by a restart.
  const bad = poolKey('Invalid'), first = poolKey('Valid'), added = poolKey('Valid');
  const s = await stack(t, {keys: [bad, first]});
  await requestUntil(s, () => calls(s, bad) === 1);
  await s.gw.stop();
  s.fake.setKeyMode(bad, 'valid');
  s.gw.opts.env = {...s.gw.opts.env, API_KEYS: `${bad},${first},${added}`};
  await s.gw.restart();
  s.fake.reset();
  const rs = await sequence(s, 6);
  assert.ok(rs.every((r) => r.status === 200));
  assert.equal(calls(s, bad), 0, 'the disabled key stays disabled although API_KEYS lists it');
  assert.ok(calls(s, added) >= 1, 'the new key was added and serves');
  assert.ok(calls(s, first) >= 1);
  assert.equal(s.fake.stats().total, 6, 'no key stored twice');
});
