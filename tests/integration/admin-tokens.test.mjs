// Client tokens through the admin API: listed masked only, created with a generated or a given
// value (the full token in the 201 answer and nowhere else), usable by the very next proxied
// call, refused by it right after deletion; a pool key is never a token, duplicates are 409.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, call, poolKey, clientToken} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, mask, createToken, registerSecret, scannedCount, eventually}
  from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => {
  assert.ok(scannedCount() > 20, `answers scanned for secrets in this file: ${scannedCount()}`);
  await fake.close();
});

const tokensPath = '/admin/api/tokens';

test('the list shows every token masked, with label and times', async (t) => {
  const toks = [clientToken('one'), clientToken('two')];
  const s = await adminStack(t, fake, {tokens: toks});
  const j = ok(await api(s, 'GET', tokensPath));
  assert.equal(j.items.length, 2);
  for (const item of j.items) {
    for (const f of ['id', 'label', 'masked', 'created_at', 'last_used_at']) assert.ok(f in item, f);
    assert.ok(!('token' in item), 'no token field in the list');
  }
  assert.deepEqual(j.items.map((x) => x.masked).sort(), toks.map(mask).sort());
  assert.ok(j.items.every((x) => x.created_at > Date.now() - 60_000));
  // last_used_at follows use.
  assert.equal((await generate(s.gw, 'use', {token: toks[0]})).status, 200);
  await eventually(async () => {
    const items = ok(await api(s, 'GET', tokensPath)).items;
    return items.find((x) => x.masked === mask(toks[0])).last_used_at > 0;
  }, {what: 'last_used_at of the used token'});
});

test('create without a token: 201, generated, full only in this answer, works at once', async (t) => {
  const s = await adminStack(t, fake);
  const r = await api(s, 'POST', tokensPath, {body: {label: 'generated one'}, allow: []});
  assert.equal(r.status, 201, r.text);
  const c = r.json;
  for (const f of ['id', 'label', 'masked', 'token', 'models', 'rpm', 'tpm', 'daily_tokens',
                   'monthly_tokens', 'expires_at', 'key_group', 'enabled', 'usage', 'remaining']) {
    assert.ok(f in c, f);
  }
  assert.deepEqual([c.rpm, c.tpm, c.daily_tokens, c.monthly_tokens, c.expires_at, c.key_group, c.enabled],
                   [0, 0, 0, 0, 0, '', true], 'no limits by default');
  assert.equal(c.label, 'generated one');
  assert.ok(c.token.length >= 24, `a strong token (${c.token.length} chars)`);
  assert.equal(c.masked, mask(c.token));
  registerSecret('a generated client token', c.token);  // from here on, no answer may hold it
  const g = await generate(s.gw, 'with the new token', {token: c.token});
  assert.equal(g.status, 200, 'works for the very next proxied call');
  for (const via of ['query', 'bearer']) {
    assert.equal((await generate(s.gw, `via ${via}`, {token: c.token, via})).status, 200);
  }
  const list = ok(await api(s, 'GET', tokensPath));
  const item = list.items.find((x) => x.id === c.id);
  assert.equal(item.masked, mask(c.token));
  assert.equal(item.label, 'generated one');
  // Two generated tokens differ; a label is optional.
  const c2 = await createToken(s, {});
  assert.notEqual(c2.token, c.token);
  assert.equal(c2.label, '');
  const c3 = await createToken(s, {label: null});
  assert.notEqual(c3.token, c2.token);
});

test('create with a given token: 201, echoed once, works at once; deleting it → 401 next call', async (t) => {
  const s = await adminStack(t, fake);
  const mine = clientToken('given');
  registerSecret('a given client token', mine);
  assert.equal((await generate(s.gw, 'before', {token: mine})).status, 401, 'unknown before creation');
  const c = await createToken(s, {label: 'mine', token: mine});
  assert.equal(c.token, mine);
  assert.equal(c.masked, mask(mine));
  assert.equal((await generate(s.gw, 'after create', {token: mine})).status, 200);
  const before = s.fake.stats().total;
  const d = await api(s, 'DELETE', `${tokensPath}/${c.id}`);
  assert.deepEqual(ok(d), {deleted: true});
  const g = await generate(s.gw, 'after delete', {token: mine});
  assert.equal(g.status, 401, 'the deleted token is refused by the next call');
  assert.equal(s.fake.stats().total, before, 'and nothing reached the upstream');
  assert.equal((await call(s.gw, '/v1/models', {token: mine, via: 'bearer'})).status, 401,
               'refused on the OpenAI routes too');
  adminError(await api(s, 'DELETE', `${tokensPath}/${c.id}`), 404);
  adminError(await api(s, 'DELETE', `${tokensPath}/987654`), 404);
  assert.ok(!ok(await api(s, 'GET', tokensPath)).items.some((x) => x.id === c.id));
  // The bootstrap token still works: deleting one token touched no other.
  assert.equal((await generate(s.gw, 'other', {token: s.token})).status, 200);
});

test('a pool key is refused as a token; a duplicate token is 409; bad values are 400', async (t) => {
  const key = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [key]});
  const r = await api(s, 'POST', tokensPath, {body: {token: key}});
  adminError(r, 400, 'token');
  assert.equal((await generate(s.gw, 'key as token', {token: key})).status, 401);
  const dupBootstrap = await api(s, 'POST', tokensPath, {body: {token: s.token}});
  adminError(dupBootstrap, 409, 'token');
  const mine = clientToken('dup');
  await createToken(s, {token: mine});
  adminError(await api(s, 'POST', tokensPath, {body: {token: mine, label: 'again'}}), 409, 'token');
  for (const [body, field] of [[{token: 'short'}, 'token'], [{token: 'has space inside it'}, 'token'],
                               [{token: 12345678}, 'token'], [{token: 'x'.repeat(257)}, 'token'],
                               [{token: 'tab\tinside-token'}, 'token'], [{label: 5}, 'label'],
                               [{label: 'l'.repeat(101)}, 'label']]) {
    adminError(await api(s, 'POST', tokensPath, {body}), 400, field);
  }
  const items = ok(await api(s, 'GET', tokensPath)).items;
  assert.equal(items.length, 2, 'only the bootstrap token and the one created');
});

test('a short token is not almost fully revealed by its mask', async (t) => {
  // The API accepts tokens of 8+ characters; "first four … last four" of a 9-character token
  // would show 8 of its 9 characters. A mask must hide most of a secret (keys shorter than 12
  // are shown as "…" alone).
  const s = await adminStack(t, fake);
  for (const tok of ['Ab3dE6g8', 'Qw3eR5t7Y', 'Zx1cV2b3N4m']) {
    const r = await api(s, 'POST', tokensPath, {body: {token: tok}, allow: [tok]});
    if (r.status !== 201) continue;  // refusing short tokens is fine too
    registerSecret('a short client token', tok);
    const shown = r.json.masked.replace('…', '');
    assert.ok(shown.length * 2 <= tok.length,
              `the mask of a ${tok.length}-character token shows ${shown.length} characters (${r.json.masked})`);
  }
});

test('the admin token can never become a client token', async (t) => {
  // Credentials stay apart: a client token must never open /admin (tested in admin-auth) and the
  // admin token must never become a client credential, or every client given it would hold the
  // admin's key (and the token list would show a mask of it).
  const s = await adminStack(t, fake);
  const r = await api(s, 'POST', tokensPath, {body: {label: 'admin as client', token: s.adminToken},
                                              allow: [s.adminToken]});
  assert.equal(r.status, 400, `creating a client token equal to the admin token: ${r.status} ${r.text.slice(0, 200)}`);
  assert.equal(r.json?.error?.field, 'token');
  assert.equal((await generate(s.gw, 'admin token as client', {token: s.adminToken})).status, 401,
               'the admin token is not a client credential');
});

test('parallel creates of the same token: one 201, the rest 409', async (t) => {
  const s = await adminStack(t, fake);
  const tok = clientToken('race');
  registerSecret('a raced client token', tok);
  const rs = await Promise.all(Array.from({length: 6}, () =>
    api(s, 'POST', tokensPath, {body: {token: tok}, allow: [tok]})));
  assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  assert.equal(ok(await api(s, 'GET', tokensPath)).items.length, 2);
});

test('the same value sent at once as a key and as a token is never accepted as both', async (t) => {
  // A pool key is never a client token (and the other way round) — also when the two admin
  // calls race: each check must see the other's committed result.
  const s = await adminStack(t, fake);
  const both = [];
  for (let i = 0; i < 10; i++) {
    const x = poolKey('Valid');
    registerSecret('a raced key/token value', x);
    const [k, tk] = await Promise.all([
      api(s, 'POST', '/admin/api/keys', {body: {keys: [x]}}),
      api(s, 'POST', tokensPath, {body: {token: x}, allow: [x]})]);
    if (k.json?.added === 1 && tk.status === 201) both.push(x);
  }
  if (both.length) {
    const asClient = await generate(s.gw, 'key as client token', {token: both[0]});
    assert.fail(`${both.length} of 10 values became a pool key AND a client token; such a pool key ` +
                `then authenticates a client (HTTP ${asClient.status})`);
  }
});
