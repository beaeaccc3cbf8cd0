// What the admin API tells an operator about failures, as the dashboard shows it: the request
// row of a failed upstream call carries Google's error text (a 4xx passed through, a 5xx after
// every key failed), each failed attempt is an error-log row under the key that failed — with
// Google's words, never a secret — and the request row lists the keys that failed before another
// answered, so a key filter finds the requests a failover hid, a key cooling
// for one model lists that model with its end time and kind, and statistics have no row for
// requests that never named a model.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, call, poolKey} from '../support/gateway.mjs';
import {adminStack, api, ok, keyOf} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const logs = (s, q) => api(s, 'GET', `/admin/api/logs?${q}`).then(ok);

test('a 4xx from Google keeps its error text in the request row', async (t) => {
  const s = await adminStack(t, fake, {keys: [poolKey('Valid')]});
  const bad = await generate(s.gw, 'x [[status=400]]', {token: s.token});
  assert.equal(bad.status, 400);
  const missing = await generate(s.gw, 'x', {token: s.token, model: 'no-such-model'});
  assert.equal(missing.status, 404);
  const rows = (await logs(s, 'kind=request&status=4xx')).items;
  const byModel = Object.fromEntries(rows.map((r) => [r.model, r]));
  assert.match(byModel['gemini-2.5-flash']?.error ?? '', /INVALID_ARGUMENT: Request contains an invalid argument/);
  assert.match(byModel['no-such-model']?.error ?? '', /NOT_FOUND: .*no-such-model is not found/);
  // The client's own mistake is no failure of ours: no error-log row, no key penalised.
  assert.equal((await logs(s, 'kind=error')).total, 0);
  const [key] = ok(await api(s, 'GET', '/admin/api/keys')).items;
  assert.equal(key.status, 'active');
});

test('every failed attempt is logged under its key with Google\'s words, also when another key answered', async (t) => {
  const quota = poolKey('Quota'), overload = poolKey('Overload'), denied = poolKey('Denied'), valid = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [quota, overload, denied, valid], settings: {max_retries: 4}});
  for (let i = 0; i < 4; i++) assert.equal((await generate(s.gw, `hi ${i}`, {token: s.token})).status, 200);
  const ids = {};
  for (const [name, secret] of Object.entries({quota, overload, denied, valid})) ids[name] = (await keyOf(s, secret)).id;

  // The request rows name the key that answered last ...
  const requests = (await logs(s, 'kind=request')).items;
  assert.ok(requests.every((r) => r.key_id === ids.valid && r.status === 200 && r.error === ''),
            JSON.stringify(requests.map((r) => [r.key_id, r.status, r.error])));
  // ... and the error log has each failed attempt under the key that failed, with Google's text.
  const quotaRows = (await logs(s, `kind=error&key=${ids.quota}`)).items;
  assert.ok(quotaRows.length >= 1, 'the quota key\'s failure is listed under it');
  assert.equal(quotaRows[0].status, 429);
  assert.equal(quotaRows[0].kind, 'quota');
  assert.match(quotaRows[0].message, /^RESOURCE_EXHAUSTED: .+/, quotaRows[0].message);
  const overRows = (await logs(s, `kind=error&key=${ids.overload}`)).items;
  assert.ok(overRows.length >= 1);
  assert.match(overRows[0].message, /UNAVAILABLE: The model is overloaded/);
  const deniedRows = (await logs(s, `kind=error&key=${ids.denied}`)).items;
  assert.equal(deniedRows.length, 1, 'the suspended key failed once and was disabled');
  assert.match(deniedRows[0].message, /CONSUMER_SUSPENDED: Permission denied: Consumer/);
  // Google's message names the consumer by its key: it must be masked (api() also scans every
  // answer for the full key).
  assert.ok(!deniedRows[0].message.includes(denied), 'the key inside Google\'s message is masked');
  assert.equal((await logs(s, `kind=error&key=${ids.valid}`)).total, 0);

  // The key filter of the request log finds the requests each failing key failed in, though
  // the valid key answered them; the row lists the keys that failed.
  for (const name of ['quota', 'overload', 'denied']) {
    const hit = (await logs(s, `kind=request&key=${ids[name]}`)).items;
    assert.ok(hit.length >= 1, `key ${name}: its failover requests are found`);
    for (const r of hit) {
      assert.equal(r.key_id, ids.valid);
      assert.ok(r.failed_key_ids.includes(ids[name]), JSON.stringify(r));
      assert.ok(!r.failed_key_ids.includes(ids.valid));
      assert.equal(r.attempts, r.failed_key_ids.length + 1, 'one failed key per failed attempt');
    }
  }
  const servedOnly = (await logs(s, `kind=request&key=${ids.valid}`)).total;
  assert.equal(servedOnly, 4, 'the valid key answered all four');
  // Deleting by that filter takes the same rows.
  const n = (await api(s, 'DELETE', '/admin/api/logs', {body: {kind: 'request', filter: {key: ids.denied}}}).then(ok)).deleted;
  assert.equal(n, 1);
  assert.equal((await logs(s, `kind=request&key=${ids.denied}`)).total, 0);
  assert.equal((await logs(s, 'kind=request')).total, 3);
});

test('when every key fails, the request row says what Google said', async (t) => {
  const s = await adminStack(t, fake, {keys: [poolKey('Overload'), poolKey('Overload')], settings: {max_retries: 2}});
  const r = await generate(s.gw, 'hi', {token: s.token});
  assert.equal(r.status, 503);
  const [row] = (await logs(s, 'kind=request')).items;
  assert.equal(row.status, 503);
  assert.match(row.error, /UNAVAILABLE: The model is overloaded/);
});

test('a key cooling for one model lists the model, until when and why; other models still use it', async (t) => {
  const quota = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [quota]});
  s.fake.setKeyMode(quota, 'quota', {retryDelay: 300, models: ['gemini-2.5-pro']});
  const before = Date.now();
  assert.equal((await generate(s.gw, 'hi', {token: s.token, model: 'gemini-2.5-pro'})).status, 429);
  assert.equal((await generate(s.gw, 'hi', {token: s.token, model: 'gemini-2.5-flash'})).status, 200,
               'the key still serves the other model');
  const key = await keyOf(s, quota);
  assert.equal(key.status, 'cooling');
  assert.equal(key.cooldowns.length, 1, JSON.stringify(key.cooldowns));
  const [c] = key.cooldowns;
  assert.equal(c.model, 'gemini-2.5-pro');
  assert.equal(c.kind, 'quota');
  assert.ok(c.until > before + 200e3, `until is Google's retry delay away (${c.until - before} ms)`);
  const listed = ok(await api(s, 'GET', '/admin/api/keys?status=cooling')).items;
  assert.deepEqual(listed.map((k) => k.id), [key.id]);
});

test('statistics leave out requests that never named a model', async (t) => {
  const s = await adminStack(t, fake, {keys: [poolKey('Valid')]});
  assert.equal((await call(s.gw, '/v1beta/models', {headers: {'x-goog-api-key': s.token}})).status, 200);
  assert.equal((await generate(s.gw, 'hi', {token: s.token})).status, 200);
  const stats = ok(await api(s, 'GET', '/admin/api/stats?window=1h'));
  assert.equal(stats.totals.requests, 2, 'both requests counted');
  assert.deepEqual(stats.by_model.map((m) => m.model), ['gemini-2.5-flash']);
});
