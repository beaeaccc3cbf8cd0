// Live settings through the admin API: GET describes every setting; PATCH validates each field
// (the error names it), applies a batch all-or-nothing, null resets to the default, secrets are
// write-only; and a change reaches the very next proxied request without a restart
// (max_retries, hidden_models, model_aliases, upstream_headers), as the stand-in upstream sees.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, call, poolKey} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, sha256hex, scannedCount} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => {
  assert.ok(scannedCount() > 20, `answers scanned for secrets in this file: ${scannedCount()}`);
  await fake.close();
});

const SETTINGS = '/admin/api/settings';
/** Every setting of conf/gemgate.yaml's settings block plus those the filters declare. */
const EXPECTED = ['max_retries', 'max_failures', 'cooldown_default_s', 'cooldown_max_s', 'health_check_model',
                  'health_check_interval_s', 'health_check_concurrency', 'upstream_connect_timeout_ms',
                  'upstream_first_byte_timeout_ms', 'upstream_idle_timeout_ms', 'upstream_total_timeout_ms',
                  'log_retention_days', 'model_aliases', 'hidden_models', 'openai_include_reasoning',
                  'openai_fetch_private_urls', 'admin_session_ttl_s', 'admin_token', 'upstream_headers',
                  'upstream_proxy'];

const byName = (j) => Object.fromEntries(j.items.map((i) => [i.name, i]));
const patch = (s, body) => api(s, 'PATCH', SETTINGS, {body});
/** The proxied-call path the upstream saw last. */
const lastUpstream = (s) => s.fake.requests().at(-1);

test('GET lists every setting with value, default, description and type', async (t) => {
  const s = await adminStack(t, fake);
  const j = ok(await api(s, 'GET', SETTINGS));
  const names = j.items.map((i) => i.name);
  assert.equal(new Set(names).size, names.length, 'no setting twice');
  for (const n of EXPECTED) assert.ok(names.includes(n), `${n} is listed`);
  for (const i of j.items) {
    assert.ok(['int', 'bool', 'string', 'secret', 'json'].includes(i.type), `${i.name}: type ${i.type}`);
    assert.ok('value' in i && 'default' in i, `${i.name}: value and default`);
    assert.ok(typeof i.description === 'string' && i.description.length > 10, `${i.name}: description`);
    assert.equal(typeof i.overridden, 'boolean', `${i.name}: overridden`);
    if (i.type === 'int') {
      assert.ok(Number.isInteger(i.min) && Number.isInteger(i.max) && i.min <= i.max, `${i.name}: min/max`);
      assert.ok(i.default >= i.min && i.default <= i.max, `${i.name}: default within range`);
      assert.ok(Number.isInteger(i.value));
    }
    if (i.type === 'bool') assert.equal(typeof i.value, 'boolean');
    if (i.type === 'string') assert.equal(typeof i.value, 'string');
    if (i.type === 'json') assert.equal(typeof i.value, 'object');
    if (i.type !== 'secret' && !i.overridden) assert.deepEqual(i.value, i.default, `${i.name}: value = default`);
  }
  const m = byName(j);
  assert.equal(m.max_retries.value, 3);
  assert.equal(m.health_check_model.value, 'gemini-2.5-flash-lite');
  assert.deepEqual(m.model_aliases.value,  // the built-in claude-* patterns of the Anthropic front
                   {'claude-*haiku*': 'gemini-2.5-flash', 'claude-*': 'gemini-2.5-pro'});
  assert.deepEqual(m.hidden_models.value, []);
  assert.equal(m.admin_token.type, 'secret');
  assert.deepEqual(m.admin_token.value, {set: true}, 'a secret is shown as set/unset only');
  assert.ok(!JSON.stringify(j).includes(sha256hex(s.adminToken)), 'not even the token hash is shown');
});

test('PATCH validates every field, names it, and applies nothing when one field is bad', async (t) => {
  const s = await adminStack(t, fake);
  const before = ok(await api(s, 'GET', SETTINGS));
  const m = byName(before);
  const cases = [
    [{bogus_setting: 1}, 'bogus_setting'],
    [{max_retries: 'three'}, 'max_retries'],
    [{max_retries: 2.5}, 'max_retries'],
    [{max_retries: true}, 'max_retries'],
    [{max_retries: m.max_retries.min - 1}, 'max_retries'],
    [{max_retries: m.max_retries.max + 1}, 'max_retries'],
    [{cooldown_default_s: -5}, 'cooldown_default_s'],
    [{log_retention_days: 1e12}, 'log_retention_days'],
    [{openai_include_reasoning: 'yes'}, 'openai_include_reasoning'],
    [{openai_include_reasoning: 1}, 'openai_include_reasoning'],
    [{health_check_model: 5}, 'health_check_model'],
    [{upstream_proxy: 'ftp://proxy.test'}, 'upstream_proxy'],
    [{model_aliases: ['fast', 'gemini-2.5-flash']}, 'model_aliases'],
    [{model_aliases: '{"fast": "gemini-2.5-flash"'}, 'model_aliases'],
    [{model_aliases: {'a b': 'gemini-2.5-flash'}}, 'model_aliases'],
    [{model_aliases: {fast: 5}}, 'model_aliases'],
    [{model_aliases: {fast: '../../v1beta/x'}}, 'model_aliases'],
    [{hidden_models: 'gemini-2.5-pro'}, 'hidden_models'],
    [{hidden_models: [1]}, 'hidden_models'],
    [{hidden_models: {'gemini-2.5-pro': true}}, 'hidden_models'],
    [{upstream_headers: []}, 'upstream_headers'],
    [{upstream_headers: {'x-a': 1}}, 'upstream_headers'],
    [{upstream_headers: {'x-a': '1\r\nx-b: 2'}}, 'upstream_headers'],
    [{upstream_headers: {'bad name': '1'}}, 'upstream_headers'],
    [{upstream_headers: {'x-goog-api-key': 'steal'}}, 'upstream_headers'],
    [{upstream_headers: {'X-Goog-Api-Key': 'steal'}}, 'upstream_headers'],
    [{upstream_headers: {authorization: 'Bearer x'}}, 'upstream_headers'],
    [{upstream_headers: {connection: 'close'}}, 'upstream_headers'],
    [{admin_token: 'short'}, 'admin_token'],
    [{admin_token: 12345678901234567890}, 'admin_token'],
    // Atomic batches: a good field next to a bad one must not be applied.
    [{max_retries: 1, bogus_setting: 1}, 'bogus_setting'],
    [{max_retries: 1, hidden_models: 'nope'}, 'hidden_models'],
    [{hidden_models: ['gemini-2.5-pro'], model_aliases: ['x']}, 'model_aliases'],
    [{model_aliases: {fast: 'gemini-2.5-flash'}, upstream_headers: {'x-goog-api-key': 'k'}, max_retries: 2},
     'upstream_headers'],
    [{admin_token: 'a-valid-new-admin-token-123456', max_failures: 'x'}, 'max_failures'],
    [{max_failures: 5, admin_token: 'short'}, 'admin_token'],
  ];
  for (const [body, field] of cases) {
    const r = await patch(s, body);
    const e = adminError(r, 400, field);
    assert.ok(e.message.length > 5, `${JSON.stringify(body)}: a clear message (${e.message})`);
  }
  adminError(await patch(s, {}), 400);
  adminError(await patch(s, '[]'), 400);
  const after = ok(await api(s, 'GET', SETTINGS));
  assert.deepEqual(after, before, 'no refused PATCH changed any setting');
  // The admin token of the refused batch does not work; the real one still does.
  assert.equal((await api(s, 'GET', SETTINGS, {token: 'a-valid-new-admin-token-123456'})).status, 401);
});

test('PATCH applies a batch, answers like GET, and null resets to the default', async (t) => {
  const s = await adminStack(t, fake);
  const r = await patch(s, {max_retries: 2, cooldown_default_s: 30, openai_include_reasoning: true,
                            hidden_models: ['gemini-2.5-pro'], model_aliases: {fast: 'gemini-2.5-flash'},
                            upstream_headers: {'x-goog-user-project': 'p1'}, health_check_model: 'gemini-2.5-flash'});
  const j = ok(r);
  assert.ok(Array.isArray(j.items), 'answers like GET');
  assert.deepEqual(j, ok(await api(s, 'GET', SETTINGS)), 'the answer is the new state');
  const m = byName(j);
  assert.equal(m.max_retries.value, 2);
  assert.equal(m.max_retries.overridden, true);
  assert.equal(m.max_retries.default, 3, 'the default is still shown');
  assert.equal(m.cooldown_default_s.value, 30);
  assert.equal(m.openai_include_reasoning.value, true);
  assert.deepEqual(m.hidden_models.value, ['gemini-2.5-pro']);
  assert.deepEqual(m.model_aliases.value, {fast: 'gemini-2.5-flash'});
  assert.deepEqual(m.upstream_headers.value, {'x-goog-user-project': 'p1'});
  assert.equal(m.health_check_model.value, 'gemini-2.5-flash');
  assert.equal(m.max_failures.overridden, false, 'untouched settings stay default');

  const back = byName(ok(await patch(s, {max_retries: null, hidden_models: null, model_aliases: null,
                                         openai_include_reasoning: null})));
  for (const n of ['max_retries', 'hidden_models', 'model_aliases', 'openai_include_reasoning']) {
    assert.deepEqual(back[n].value, back[n].default, `${n} back to its default`);
    assert.equal(back[n].overridden, false, `${n} no longer overridden`);
  }
  assert.equal(back.cooldown_default_s.value, 30, 'settings not in the PATCH keep their value');
  assert.deepEqual(back.upstream_headers.value, {'x-goog-user-project': 'p1'});
  // A null for a setting that was never changed is fine too.
  ok(await patch(s, {max_failures: null}));
});

test('max_retries is live: with [overload, valid] a change to 1 means one upstream attempt', async (t) => {
  const over = poolKey('Overload'), good = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [over, good], settings: {max_failures: 0}});
  const pid = s.gw.proc.pid;
  const stats = async () => (await (await fetch(`${s.fake.url}/__stats`)).json()).calls;
  // Default (3): every request ends 200; those that hit the overloaded key first took 2 attempts.
  for (let i = 0; i < 4; i++) {
    const r = await generate(s.gw, `three ${i}`, {token: s.token});
    assert.equal(r.status, 200, r.text);
  }
  let c = await stats();
  assert.equal(c[good], 4, 'the valid key answered every request');
  assert.ok(c[over] >= 1, 'the overloaded key was tried too');
  ok(await patch(s, {max_retries: 1}));
  s.fake.reset();
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const before = s.fake.stats().total;
    const r = await generate(s.gw, `one ${i}`, {token: s.token});
    statuses.push(r.status);
    assert.equal(s.fake.stats().total - before, 1, `request ${i}: exactly one upstream attempt`);
  }
  c = await stats();
  assert.ok(c[over] >= 2, `the overloaded key was hit without a retry (${JSON.stringify(c)})`);
  assert.equal(statuses.filter((x) => x === 503).length, c[over], 'its 503s reached the client');
  assert.equal(statuses.filter((x) => x === 200).length, c[good]);
  // Back to the default: retries again.
  ok(await patch(s, {max_retries: null}));
  for (let i = 0; i < 4; i++) assert.equal((await generate(s.gw, `again ${i}`, {token: s.token})).status, 200);
  assert.equal(s.gw.proc.pid, pid, 'no restart happened');
  assert.equal(s.gw.runs, 1);
});

test('hidden_models is live: the model 404s at once and leaves the models list', async (t) => {
  const s = await adminStack(t, fake);
  assert.equal((await generate(s.gw, 'before', {token: s.token, model: 'gemini-2.5-pro'})).status, 200);
  ok(await patch(s, {hidden_models: ['gemini-2.5-pro']}));
  const before = s.fake.stats().total;
  const r = await generate(s.gw, 'hidden', {token: s.token, model: 'gemini-2.5-pro'});
  assert.equal(r.status, 404, r.text);
  assert.equal(s.fake.stats().total, before, 'a hidden model never reaches the upstream');
  for (const prefix of ['/gemini/v1beta', '/gemini/v1']) {
    assert.equal((await generate(s.gw, 'hidden', {token: s.token, model: 'gemini-2.5-pro', prefix})).status, 404,
                 prefix);
  }
  assert.equal((await generate(s.gw, 'other', {token: s.token, model: 'gemini-2.5-flash'})).status, 200);
  const list = await call(s.gw, '/v1beta/models?pageSize=1000', {token: s.token});
  assert.equal(list.status, 200);
  const names = list.json.models.map((x) => x.name);
  assert.ok(!names.includes('models/gemini-2.5-pro'), 'left out of the list');
  assert.ok(names.includes('models/gemini-2.5-flash'));
  ok(await patch(s, {hidden_models: null}));
  assert.equal((await generate(s.gw, 'visible', {token: s.token, model: 'gemini-2.5-pro'})).status, 200);
});

test('model_aliases is live: an alias reaches the upstream as its real model', async (t) => {
  const s = await adminStack(t, fake);
  const before = await generate(s.gw, 'no alias yet', {token: s.token, model: 'my-fast'});
  assert.notEqual(before.status, 200, 'an unknown model fails before the alias exists');
  ok(await patch(s, {model_aliases: {'my-fast': 'gemini-2.5-flash', 'my-pro': 'gemini-2.5-pro'}}));
  const r = await generate(s.gw, 'aliased', {token: s.token, model: 'my-fast'});
  assert.equal(r.status, 200, r.text);
  assert.equal(lastUpstream(s).path, '/v1beta/models/gemini-2.5-flash:generateContent');
  const p = await generate(s.gw, 'aliased pro', {token: s.token, model: 'my-pro'});
  assert.equal(p.status, 200);
  assert.equal(lastUpstream(s).path, '/v1beta/models/gemini-2.5-pro:generateContent');
  // Hidden + alias: hiding the target hides the alias too.
  ok(await patch(s, {hidden_models: ['gemini-2.5-pro']}));
  const n = s.fake.stats().total;
  assert.equal((await generate(s.gw, 'alias of hidden', {token: s.token, model: 'my-pro'})).status, 404);
  assert.equal(s.fake.stats().total, n);
});

test('upstream_headers is live: the next upstream call carries the header, and stops after null', async (t) => {
  const s = await adminStack(t, fake);
  assert.equal((await generate(s.gw, 'plain', {token: s.token})).status, 200);
  assert.equal(lastUpstream(s).headers['x-goog-user-project'], undefined);
  ok(await patch(s, {upstream_headers: {'x-goog-user-project': 'proj-it-42', 'x-extra-tag': 'v1'}}));
  assert.equal((await generate(s.gw, 'with header', {token: s.token})).status, 200);
  assert.equal(lastUpstream(s).headers['x-goog-user-project'], 'proj-it-42');
  assert.equal(lastUpstream(s).headers['x-extra-tag'], 'v1');
  assert.ok(s.keys.includes(lastUpstream(s).headers['x-goog-api-key']), 'the pool key is still the credential');
  ok(await patch(s, {upstream_headers: null}));
  assert.equal((await generate(s.gw, 'plain again', {token: s.token})).status, 200);
  assert.equal(lastUpstream(s).headers['x-goog-user-project'], undefined);
});

test('parallel PATCHes of different settings lose no update', async (t) => {
  const s = await adminStack(t, fake);
  const changes = {max_retries: 4, max_failures: 9, cooldown_default_s: 17, cooldown_max_s: 1800,
                   health_check_concurrency: 3, log_retention_days: 12, upstream_idle_timeout_ms: 9000,
                   upstream_connect_timeout_ms: 4000, openai_include_reasoning: true,
                   hidden_models: ['gemini-1.5-pro']};
  const rs = await Promise.all(Object.entries(changes).map(([k, v]) => patch(s, {[k]: v})));
  for (const r of rs) ok(r);
  const m = byName(ok(await api(s, 'GET', SETTINGS)));
  for (const [k, v] of Object.entries(changes)) assert.deepEqual(m[k].value, v, `${k} kept`);
});
