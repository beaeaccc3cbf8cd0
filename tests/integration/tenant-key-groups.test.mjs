// A token's key_group (tokens) meets the keys' groups (keys with policy), end to end: a token
// with `key_group: paid` is served only by the pool keys of group "paid", on the native and the
// OpenAI routes, counted per key at the stand-in upstream; a token without a group may use every
// key; a token whose group has no key gets the route's "no key" answer naming the group, and no
// key is called for it.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, poolKey, call} from '../support/gateway.mjs';
import {adminStack, api, ok, createToken, keyOf, registerSecret} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

function chat(s, token) {
  return call(s.gw, '/v1/chat/completions', {
    token, via: 'bearer',
    body: {model: 'gemini-2.5-flash', messages: [{role: 'user', content: 'hi'}]},
  });
}

test('a token with a key group is served by that group only; a token without one by all', async (t) => {
  const free = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [free]});
  const paid = [poolKey('Valid'), poolKey('Valid')];
  paid.forEach((k) => registerSecret('a pool key', k));
  const r = await api(s, 'POST', '/admin/api/keys', {body: {text: paid.map((k) => `${k},group=paid`).join('\n')}});
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((await Promise.all(paid.map((k) => keyOf(s, k)))).map((k) => k.group), ['paid', 'paid']);

  const tenant = await createToken(s, {label: 'paid tenant', key_group: 'paid'});
  for (let i = 0; i < 10; i++) {
    const g = await generate(s.gw, `paid ${i}`, {token: tenant.token});
    assert.equal(g.status, 200, g.text);
    const c = await chat(s, tenant.token);
    assert.equal(c.status, 200, c.text);
  }
  assert.equal(s.fake.callsFor(free), 0, 'the ungrouped key never serves the paid tenant');
  assert.equal(s.fake.callsFor(paid[0]) + s.fake.callsFor(paid[1]), 20);
  assert.ok(s.fake.callsFor(paid[0]) > 0 && s.fake.callsFor(paid[1]) > 0, 'both paid keys take turns');

  // The stack's own token has no group: every key may serve it, the ungrouped one included.
  for (let i = 0; i < 9; i++) assert.equal((await generate(s.gw, `any ${i}`, {token: s.token})).status, 200);
  assert.ok(s.fake.callsFor(free) > 0, 'a token without a key group may use ungrouped keys');
});

test('a token whose key group has no key gets the "no key" answer naming the group, and no key is called', async (t) => {
  const only = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [only]});
  const lonely = await createToken(s, {label: 'nobody serves me', key_group: 'ghost'});
  const g = await generate(s.gw, 'hello', {token: lonely.token});
  assert.ok(g.status === 503 || g.status === 429, `status ${g.status}: ${g.text}`);
  assert.match(g.text, /ghost/);
  const c = await chat(s, lonely.token);
  assert.ok(c.status === 503 || c.status === 429, `status ${c.status}: ${c.text}`);
  assert.match(c.text, /ghost/);
  assert.equal(s.fake.callsFor(only), 0);
  ok(await api(s, 'GET', '/admin/api/keys'));
});
