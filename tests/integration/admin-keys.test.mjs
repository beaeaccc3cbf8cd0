// The key pool through the admin API: list (paging, status filter, search, counts), add (list
// and free text, with a report of duplicates and rejects), masking, delete, enable / disable /
// reset, verify against the stand-in upstream, bulk actions, and the live health the proxy
// gave a key (disabled by Google's answer, cooling after a quota error). Every change must
// reach the very next proxied request; no answer may ever hold a full key.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {requestUntil, sequence} from '../support/stack.mjs';
import {generate, poolKey, clientToken} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, mask, letterKey, allKeys, keyOf, addKeys, registerSecret,
        scannedCount, eventually} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => {
  assert.ok(scannedCount() > 50, `answers scanned for secrets in this file: ${scannedCount()}`);
  await fake.close();
});

const keysPath = (q = '') => `/admin/api/keys${q ? `?${q}` : ''}`;
const calls = (s, k) => s.fake.callsFor(k);

/** Checks the Key object's shape. */
function assertKeyShape(k) {
  for (const f of ['id', 'masked', 'status', 'reason', 'failures', 'cooldowns', 'last_used_at', 'last_error',
                   'last_checked_at', 'created_at', 'calls_24h', 'tokens_24h']) {
    assert.ok(f in k, `Key has ${f}: ${JSON.stringify(k)}`);
  }
  assert.ok(['active', 'cooling', 'disabled'].includes(k.status));
  assert.ok(Array.isArray(k.cooldowns));
  assert.equal(typeof k.id, 'number');
}

test('list: paging, counts, masking and the Key shape', async (t) => {
  const keys = Array.from({length: 7}, () => letterKey());
  const s = await adminStack(t, fake, {keys});
  const first = ok(await api(s, 'GET', keysPath()));
  assert.equal(first.total, 7);
  assert.equal(first.page, 1);
  assert.equal(first.per_page, 50, 'default per_page');
  assert.deepEqual(first.counts, {all: 7, active: 7, cooling: 0, disabled: 0});
  first.items.forEach(assertKeyShape);
  assert.deepEqual(first.items.map((k) => k.masked).sort(), keys.map(mask).sort(),
                   'each key shown as first four … last four');
  const now = Date.now();
  for (const k of first.items) {
    assert.equal(k.status, 'active');
    assert.ok(k.created_at > now - 60_000 && k.created_at <= now + 1000, `created_at ${k.created_at}`);
  }
  const ids = [];
  for (let page = 1; page <= 4; page++) {
    const j = ok(await api(s, 'GET', keysPath(`page=${page}&per_page=3`)));
    assert.equal(j.total, 7, `total on page ${page}`);
    assert.equal(j.page, page);
    assert.equal(j.per_page, 3);
    assert.equal(j.items.length, [3, 3, 1, 0][page - 1], `items on page ${page}`);
    ids.push(...j.items.map((k) => k.id));
  }
  assert.equal(new Set(ids).size, 7, 'no key on two pages');
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ordered by id');
  assert.deepEqual(ids, first.items.map((k) => k.id));
});

test('list: status filter, q by part of the key and by id, counts follow', async (t) => {
  const keys = Array.from({length: 6}, () => letterKey());
  const s = await adminStack(t, fake, {keys});
  const items = await allKeys(s);
  const idOf = (secret) => items.find((k) => k.masked === mask(secret)).id;
  for (const secret of keys.slice(0, 2)) {
    ok(await api(s, 'POST', `/admin/api/keys/${idOf(secret)}/disable`));
  }
  const disabled = ok(await api(s, 'GET', keysPath('status=disabled')));
  assert.equal(disabled.total, 2);
  assert.deepEqual(disabled.items.map((k) => k.id).sort(), keys.slice(0, 2).map(idOf).sort());
  assert.ok(disabled.items.every((k) => k.status === 'disabled'));
  assert.deepEqual(disabled.counts, {all: 6, active: 4, cooling: 0, disabled: 2}, 'counts ignore the filter');
  const active = ok(await api(s, 'GET', keysPath('status=active')));
  assert.equal(active.total, 4);
  assert.ok(active.items.every((k) => k.status === 'active'));
  assert.equal(ok(await api(s, 'GET', keysPath('status=cooling'))).total, 0);
  assert.equal(ok(await api(s, 'GET', keysPath('status=all'))).total, 6);
  adminError(await api(s, 'GET', keysPath('status=broken')), 400, 'status');

  // q: a piece of the key text of at least 10 characters...
  const target = keys[3];
  for (const part of [target.slice(-12), target.slice(12, 24), target]) {
    const j = ok(await api(s, 'GET', keysPath(`q=${encodeURIComponent(part)}`)));
    assert.equal(j.total, 1, `q=<part of key 3> → ${j.total}`);
    assert.equal(j.items[0].masked, mask(target));
  }
  // ...or a key id (letter-only keys never contain digits, so only the id can match).
  const id = idOf(keys[4]);
  const byId = ok(await api(s, 'GET', keysPath(`q=${id}`)));
  assert.deepEqual(byId.items.map((k) => k.id), [id]);
  assert.equal(ok(await api(s, 'GET', keysPath('q=nothing-like-this'))).total, 0);
  // ...but never a shorter piece: that would be an oracle on the masked secret.
  assert.equal(ok(await api(s, 'GET', keysPath(`q=${encodeURIComponent(target.slice(12, 21))}`))).total, 0);
  // q and status combine.
  const disabledMatch = ok(await api(s, 'GET', keysPath(`status=active&q=${keys[0].slice(-12)}`)));
  assert.equal(disabledMatch.total, 0, 'key 0 is disabled, so not an active match');
});

test('add by list: a report of added, duplicates and rejected (words, short, client token)', async (t) => {
  const client = clientToken('asKey');  // 34 characters of the key alphabet: a plausible key
  const existing = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [existing], tokens: [client]});
  const fresh = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  fresh.forEach((k) => registerSecret('a pool key', k));
  const list = [fresh[0], fresh[1], existing, fresh[2], 'key', 'abc', client,
                'AIzaSyBad!Characters$$in_this_key_12345', fresh[1]];
  const r = await api(s, 'POST', keysPath(), {body: {keys: list}});
  assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
  const j = r.json;
  assert.equal(j.added, 3, JSON.stringify(j));
  assert.equal(j.added_ids.length, 3);
  assert.equal(j.duplicates, 2, 'the stored key and the repeated one');
  assert.equal(j.rejected, 4);
  assert.deepEqual(j.rejected_items.map((x) => x.index), [4, 5, 6, 7]);
  for (const x of j.rejected_items) assert.ok(typeof x.reason === 'string' && x.reason.length > 3, x.reason);
  assert.match(j.rejected_items[2].reason, /client token/i, 'the client token is refused as such');
  const listed = ok(await api(s, 'GET', keysPath()));
  assert.equal(listed.total, 4);
  assert.deepEqual(listed.items.map((k) => k.masked).sort(), [existing, ...fresh].map(mask).sort());
  for (const id of j.added_ids) {
    const k = listed.items.find((x) => x.id === id);
    assert.ok(k, `added id ${id} is listed`);
    assert.equal(k.status, 'active');
  }
  // The client token still works as a client token, and is not a key.
  const g = await generate(s.gw, 'still a client', {token: client});
  assert.equal(g.status, 200);
  assert.ok(![...Object.keys(s.fake.stats().calls)].includes(client), 'never sent upstream as a key');

  for (const [body, field] of [[{}, 'keys'], [{keys: 'AIza'}, 'keys'], [{keys: [1]}, 'keys'], [{text: 5}, 'text'],
                               [{keys: []}, 'keys'], [{text: ' , ;\n'}, 'keys']]) {
    adminError(await api(s, 'POST', keysPath(), {body}), 400, field);
  }
  assert.equal(ok(await api(s, 'GET', keysPath())).total, 4, 'bad calls added nothing');
});

test('add by free text with mixed separators', async (t) => {
  const s = await adminStack(t, fake);
  const k = Array.from({length: 7}, () => poolKey('Valid'));
  k.forEach((x) => registerSecret('a pool key', x));
  const text = `${k[0]},${k[1]};${k[2]} ${k[3]}\t${k[4]}\n${k[5]}\r\n  ,, ;\n${k[6]}\nkey\nsk-1234`;
  const r = await api(s, 'POST', keysPath(), {body: {text}});
  assert.ok(r.status === 200 || r.status === 201, r.text);
  assert.equal(r.json.added, 7, JSON.stringify(r.json));
  assert.equal(r.json.rejected, 2);
  assert.deepEqual(r.json.rejected_items.map((x) => x.index), [7, 8]);
  assert.equal(r.json.duplicates, 0);
  const again = await api(s, 'POST', keysPath(), {body: {text: k.join('\n')}});
  assert.equal(again.json.added, 0);
  assert.equal(again.json.duplicates, 7);
  assert.equal(ok(await api(s, 'GET', keysPath())).counts.all, 8);
});

test('an added key serves the next proxied request; a deleted one never again', async (t) => {
  const only = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [only]});
  const [{id: onlyId}] = (await allKeys(s));
  ok(await api(s, 'POST', `/admin/api/keys/${onlyId}/disable`));
  const none = await generate(s.gw, 'no key', {token: s.token});
  assert.equal(none.status, 503, 'every key disabled');
  const added = poolKey('Valid');
  const j = await addKeys(s, [added]);
  const g = await generate(s.gw, 'new key', {token: s.token});
  assert.equal(g.status, 200, g.text);
  assert.equal(calls(s, added), 1, 'the new key served at once');
  assert.equal(calls(s, only), 0, 'the disabled key was not used');

  const d = await api(s, 'DELETE', `/admin/api/keys/${j.added_ids[0]}`);
  assert.deepEqual(ok(d), {deleted: true});
  assert.equal((await generate(s.gw, 'after delete', {token: s.token})).status, 503);
  assert.equal(calls(s, added), 1, 'the deleted key is never used again');
  adminError(await api(s, 'DELETE', `/admin/api/keys/${j.added_ids[0]}`), 404);
  adminError(await api(s, 'DELETE', '/admin/api/keys/999999'), 404);
  adminError(await api(s, 'DELETE', '/admin/api/keys/abc'), 404);
  adminError(await api(s, 'POST', '/admin/api/keys/999999/disable'), 404);
  adminError(await api(s, 'POST', `/admin/api/keys/${onlyId}/explode`), 404);
  assert.equal((await api(s, 'GET', `/admin/api/keys/${onlyId}/enable`)).status, 405);
  const list = ok(await api(s, 'GET', keysPath()));
  assert.deepEqual(list.counts, {all: 1, active: 0, cooling: 0, disabled: 1});
  // A deleted key may be added again.
  assert.equal((await addKeys(s, [added])).added, 1);
});

test('disable, enable and reset answer the updated Key and steer the next requests', async (t) => {
  const a = poolKey('Valid'), b = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [a, b]});
  const idA = (await keyOf(s, a)).id;
  const dis = ok(await api(s, 'POST', `/admin/api/keys/${idA}/disable`));
  assertKeyShape(dis);
  assert.equal(dis.id, idA);
  assert.equal(dis.status, 'disabled');
  assert.ok(dis.reason.length > 0, 'a disabled key says why');
  assert.equal(dis.masked, mask(a));
  await sequence(s, 6);
  assert.equal(calls(s, a), 0, 'a disabled key is not used');
  assert.equal(calls(s, b), 6);
  const en = ok(await api(s, 'POST', `/admin/api/keys/${idA}/enable`));
  assert.equal(en.status, 'active');
  assert.equal(en.reason, '');
  await sequence(s, 6);
  assert.ok(calls(s, a) >= 2, `an enabled key serves again (${calls(s, a)})`);

  // Reset lifts a quota cooldown.
  s.fake.setKeyMode(a, 'quota', {retryDelay: 300});
  const struck = calls(s, a) + 1;
  await requestUntil(s, () => calls(s, a) === struck);
  const cooling = await keyOf(s, a);
  assert.equal(cooling.status, 'cooling', JSON.stringify(cooling));
  s.fake.setKeyMode(a, 'valid');
  const reset = ok(await api(s, 'POST', `/admin/api/keys/${idA}/reset`));
  assert.equal(reset.status, 'active');
  assert.deepEqual(reset.cooldowns, []);
  assert.equal(reset.failures, 0);
  const before = calls(s, a);
  await sequence(s, 4);
  assert.ok(calls(s, a) > before, 'served again after the reset');
});

test('a key Google rejected shows "disabled" with its reason; a quota key shows its cooldown', async (t) => {
  const bad = poolKey('Invalid'), quota = poolKey('Cool'), good = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [bad, quota, good]});
  s.fake.setKeyMode(quota, 'quota', {retryDelay: 120});
  await requestUntil(s, () => calls(s, bad) >= 1 && calls(s, quota) >= 1);
  const t0 = Date.now();
  const kb = await eventually(async () => {
    const k = await keyOf(s, bad);
    return k.status === 'disabled' && k;
  }, {what: 'the invalid key disabled'});
  assert.match(`${kb.reason} ${kb.last_error}`, /invalid|API_KEY|400/i, `reason: ${kb.reason}`);
  assert.ok(kb.reason.length > 0);
  const kq = await keyOf(s, quota);
  assert.equal(kq.status, 'cooling', JSON.stringify(kq));
  assert.equal(kq.cooldowns.length, 1);
  assert.equal(kq.cooldowns[0].model, 'gemini-2.5-flash');
  const until = kq.cooldowns[0].until;
  assert.ok(until > t0 + 100_000 && until < t0 + 130_000, `cooling until ≈ now + 120 s (${until - t0} ms)`);
  const list = ok(await api(s, 'GET', keysPath()));
  assert.deepEqual(list.counts, {all: 3, active: 1, cooling: 1, disabled: 1});
  assert.deepEqual(ok(await api(s, 'GET', keysPath('status=cooling'))).items.map((k) => k.masked), [mask(quota)]);
  assert.deepEqual(ok(await api(s, 'GET', keysPath('status=disabled'))).items.map((k) => k.masked), [mask(bad)]);
  const kg = await keyOf(s, good);
  assert.ok(kg.calls_24h >= 1 && kg.tokens_24h > 0 && kg.last_used_at > 0,
            `usage of the good key: ${JSON.stringify(kg)}`);
});

test('verify probes the upstream: ok for a valid key, not ok (and disabled) for an invalid one', async (t) => {
  const good = poolKey('Valid'), bad = poolKey('Invalid');
  const s = await adminStack(t, fake, {keys: [good, bad]});
  const idGood = (await keyOf(s, good)).id, idBad = (await keyOf(s, bad)).id;
  const t0 = Date.now();
  const v1 = ok(await api(s, 'POST', `/admin/api/keys/${idGood}/verify`));
  assert.equal(v1.id, idGood);
  assert.equal(v1.ok, true, JSON.stringify(v1));
  assert.equal(v1.key.status, 'active');
  assert.ok(v1.key.last_checked_at >= t0 - 1000, 'last_checked_at updated');
  assert.equal(calls(s, good), 1, 'one probe with that key');
  const probe = s.fake.requests().find((r) => r.key === good);
  assert.equal(probe.model, 'gemini-2.5-flash-lite', 'the probe uses health_check_model');

  const v2 = ok(await api(s, 'POST', `/admin/api/keys/${idBad}/verify`));
  assert.equal(v2.ok, false);
  assert.ok(typeof v2.reason === 'string' && v2.reason.length > 0, `a reason: ${v2.reason}`);
  assert.equal(v2.key.status, 'disabled', 'an invalid key is disabled by verify');
  assert.ok(v2.key.reason.length > 0);
  assert.equal(calls(s, bad), 1);
  // When the key answers again, verify brings it back.
  s.fake.setKeyMode(bad, 'valid');
  const v3 = ok(await api(s, 'POST', `/admin/api/keys/${idBad}/verify`));
  assert.equal(v3.ok, true, JSON.stringify(v3));
  assert.equal(v3.key.status, 'active', 'a verified key is enabled again');
  adminError(await api(s, 'POST', '/admin/api/keys/424242/verify'), 404);
  // health_check_model is live: the next probe uses the new model.
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {health_check_model: 'gemini-2.5-pro'}}));
  ok(await api(s, 'POST', `/admin/api/keys/${idGood}/verify`));
  assert.equal(s.fake.requests().filter((r) => r.key === good).pop().model, 'gemini-2.5-pro');
});

test('bulk actions by ids and with "all"', async (t) => {
  const goods = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  const bads = [poolKey('Invalid'), poolKey('Invalid')];
  const s = await adminStack(t, fake, {keys: [...goods, ...bads]});
  const items = await allKeys(s);
  const id = (k) => items.find((x) => x.masked === mask(k)).id;
  const [g0, g1, g2] = goods.map(id);

  const dis = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'disable', ids: [g0, g1, 999999]}}));
  assert.equal(dis.action, 'disable');
  assert.equal(dis.succeeded, 2);
  assert.equal(dis.failed, 1);
  assert.deepEqual(dis.results.map((r) => [r.id, r.ok]).sort(), [[g0, true], [g1, true], [999999, false]].sort());
  assert.ok(dis.results.find((r) => r.id === 999999).reason, 'an unknown id has a reason');
  assert.equal((await keyOf(s, goods[0])).status, 'disabled');
  assert.equal((await keyOf(s, goods[2])).status, 'active', 'not listed → untouched');

  const en = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'enable', ids: 'all'}}));
  assert.equal(en.succeeded, 5);
  assert.equal(ok(await api(s, 'GET', keysPath())).counts.active, 5);

  const ver = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'verify', ids: 'all'}}));
  assert.equal(ver.action, 'verify');
  assert.equal(ver.results.length, 5);
  assert.equal(ver.succeeded, 3);
  assert.equal(ver.failed, 2);
  for (const b of bads.map(id)) {
    const r = ver.results.find((x) => x.id === b);
    assert.equal(r.ok, false);
    assert.ok(r.reason, 'a failed verify has a reason');
  }
  assert.deepEqual(ok(await api(s, 'GET', keysPath())).counts, {all: 5, active: 3, cooling: 0, disabled: 2});

  const reset = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'reset', ids: [g2]}}));
  assert.equal(reset.succeeded, 1);
  const del = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'delete', ids: bads.map(id)}}));
  assert.equal(del.succeeded, 2);
  assert.equal(ok(await api(s, 'GET', keysPath())).total, 3);
  await sequence(s, 6);
  for (const b of bads) assert.equal(calls(s, b), 1, 'deleted keys: only the verify probe ever reached them');

  for (const [body, field] of [[{ids: 'all'}, 'action'], [{action: 'explode', ids: 'all'}, 'action'],
                               [{action: 'reset'}, 'ids'], [{action: 'reset', ids: 'some'}, 'ids'],
                               [{action: 'reset', ids: [-1]}, 'ids'], [{action: 'reset', ids: ['1']}, 'ids']]) {
    adminError(await api(s, 'POST', '/admin/api/keys/bulk', {body}), 400, field);
  }
  const all = ok(await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'delete', ids: 'all'}}));
  assert.equal(all.succeeded, 3);
  assert.deepEqual(ok(await api(s, 'GET', keysPath())).counts, {all: 0, active: 0, cooling: 0, disabled: 0});
});

test('the admin token is never accepted as a pool key', async (t) => {
  // A pool key travels to Google in x-goog-api-key: the admin token must never be stored as one
  // (as a client token equal to a key is refused, "equals a client token").
  const s = await adminStack(t, fake);
  const r = await api(s, 'POST', keysPath(), {body: {keys: [s.adminToken]}});
  assert.equal(r.json?.added, 0, `the admin token was added as a pool key: ${r.text}`);
  assert.equal(r.json?.rejected, 1);
  assert.equal(ok(await api(s, 'GET', keysPath())).total, 1);
});

test('parallel adds of the same keys store each key once', async (t) => {
  const s = await adminStack(t, fake);
  const k = [poolKey('Valid'), poolKey('Valid')];
  k.forEach((x) => registerSecret('a pool key', x));
  const rs = await Promise.all(Array.from({length: 8}, () => api(s, 'POST', keysPath(), {body: {keys: k}})));
  const added = rs.reduce((a, r) => a + r.json.added, 0);
  const dups = rs.reduce((a, r) => a + r.json.duplicates, 0);
  assert.equal(added, 2, 'each key added once');
  assert.equal(dups, 14, 'every other copy reported as a duplicate');
  assert.equal(ok(await api(s, 'GET', keysPath())).total, 3);
});

test('bulk verify runs concurrently, capped by health_check_concurrency', async (t) => {
  const slow = Array.from({length: 6}, () => poolKey('Valid'));
  const s = await adminStack(t, fake, {keys: slow});
  for (const k of slow) s.fake.setKeyMode(k, 'slow', {delayMs: 400});
  const run = async () => {
    let maxActive = 0, done = false;
    const poll = (async () => {
      while (!done) {
        maxActive = Math.max(maxActive, s.fake.stats().active);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const t0 = Date.now();
    const r = await api(s, 'POST', '/admin/api/keys/bulk', {body: {action: 'verify', ids: 'all'}});
    const ms = Date.now() - t0;
    done = true;
    await poll;
    assert.equal(ok(r).succeeded, 6, r.text);
    return {ms, maxActive};
  };
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {health_check_concurrency: 2}}));
  const capped = await run();
  assert.ok(capped.maxActive <= 2, `at most 2 probes at once (saw ${capped.maxActive})`);
  assert.ok(capped.ms >= 1150, `3 rounds of 400 ms (${capped.ms} ms)`);
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {health_check_concurrency: 6}}));
  const wide = await run();
  assert.ok(wide.maxActive >= 3, `probes run concurrently (saw ${wide.maxActive} at once)`);
  assert.ok(wide.ms < 1150, `one round (${wide.ms} ms)`);
});
