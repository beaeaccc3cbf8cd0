// Client tokens as tenants: each limit and permission of a token's policy, enforced on the
// native and the OpenAI routes with exact counts — rpm (the sixth request within a minute is
// refused), tpm, daily and monthly token quotas (the request that crosses one is the last one
// served; OpenAI's insufficient_quota shape), allowed models (403, and hidden from model
// lists), expiry and enabled; the quotas surviving a restart; the admin API's fields, usage,
// remaining quota and validation errors naming the field; statistics filtered by token.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, call, streamGenerate} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, createToken} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const tokensPath = '/admin/api/tokens';

function native(s, token, {model = 'gemini-2.5-flash', text = 'hi'} = {}) {
  return generate(s.gw, text, {token, model});
}

function chat(s, token, {model = 'gemini-2.5-flash', text = 'hi'} = {}) {
  return call(s.gw, '/v1/chat/completions', {
    token, via: 'bearer',
    body: {model, messages: [{role: 'user', content: text}]},
  });
}

async function tokenItem(s, id) {
  return ok(await api(s, 'GET', tokensPath)).items.find((x) => x.id === id);
}

function retryAfter(r) {
  const v = r.headers.get('retry-after');
  assert.match(String(v), /^\d+$/, `Retry-After is a number of seconds: ${v}`);
  return Number(v);
}

test('rpm 5: the sixth request within a minute gets 429 with Retry-After (native and OpenAI)', async (t) => {
  const s = await adminStack(t, fake);
  const a = await createToken(s, {label: 'rpm native', rpm: 5});
  const b = await createToken(s, {label: 'rpm openai', rpm: 5});
  const calls0 = s.fake.stats().total;
  for (let i = 0; i < 5; i++) assert.equal((await native(s, a.token)).status, 200, `request ${i + 1}`);
  const sixth = await native(s, a.token);
  assert.equal(sixth.status, 429, sixth.text);
  assert.equal(sixth.json.error.status, 'RESOURCE_EXHAUSTED');
  assert.equal(sixth.json.error.message, 'rpm limit of 5 requests per minute reached for this token');
  const wait = retryAfter(sixth);
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
  assert.equal(s.fake.stats().total - calls0, 5, 'the refused request never reached the upstream');

  for (let i = 0; i < 5; i++) assert.equal((await chat(s, b.token)).status, 200, `chat ${i + 1}`);
  const refused = await chat(s, b.token);
  assert.equal(refused.status, 429, refused.text);
  assert.equal(refused.json.error.type, 'rate_limit_error');
  assert.equal(refused.json.error.code, 'rate_limit_exceeded');
  assert.match(refused.json.error.message, /rpm limit of 5 requests per minute/);
  retryAfter(refused);
  // Another token is not affected; the counter shows in the admin list.
  assert.equal((await native(s, s.token)).status, 200);
  const item = await tokenItem(s, a.id);
  assert.equal(item.rpm, 5);
  assert.equal(item.usage.minute.requests, 5);
  assert.equal(item.remaining.rpm, 0);
});

test('daily_tokens: the request that crosses the quota is the last one served', async (t) => {
  const s = await adminStack(t, fake);
  const probe = await native(s, s.token, {text: 'same prompt'});
  const perCall = probe.json.usageMetadata.totalTokenCount;
  assert.ok(perCall > 0);
  const q = await createToken(s, {daily_tokens: 2 * perCall + 1});
  for (let i = 1; i <= 3; i++) {
    assert.equal((await native(s, q.token, {text: 'same prompt'})).status, 200, `request ${i}`);
  }
  const fourth = await native(s, q.token, {text: 'same prompt'});
  assert.equal(fourth.status, 429, fourth.text);
  assert.equal(fourth.json.error.status, 'RESOURCE_EXHAUSTED');
  assert.match(fourth.json.error.message, /daily_tokens quota of \d+ tokens per day/);
  assert.ok(retryAfter(fourth) <= 86400);
  const item = await tokenItem(s, q.id);
  assert.equal(item.usage.today.tokens, 3 * perCall);
  assert.equal(item.usage.today.requests, 4, 'the refused request counts as a request');
  assert.equal(item.usage.month.tokens, 3 * perCall);
  assert.equal(item.remaining.daily_tokens, 0);
  assert.equal(item.remaining.monthly_tokens, null, 'no monthly quota');

  // OpenAI route: the insufficient_quota shape.
  const o = await createToken(s, {daily_tokens: 1});
  assert.equal((await chat(s, o.token)).status, 200);
  const over = await chat(s, o.token);
  assert.equal(over.status, 429, over.text);
  assert.equal(over.json.error.type, 'insufficient_quota');
  assert.equal(over.json.error.code, 'insufficient_quota');
  retryAfter(over);
});

test('a stream is charged at its end; monthly_tokens and tpm refuse the next request', async (t) => {
  const s = await adminStack(t, fake);
  const m = await createToken(s, {monthly_tokens: 1});
  const res = await streamGenerate(s.gw, 'stream me', {token: m.token});
  assert.equal(res.status, 200);
  await res.text();
  const next = await native(s, m.token);
  assert.equal(next.status, 429, next.text);
  assert.match(next.json.error.message, /monthly_tokens quota of 1 tokens per month/);
  assert.ok((await tokenItem(s, m.id)).usage.month.tokens > 0, 'the stream was charged');

  const r = await createToken(s, {tpm: 1});
  assert.equal((await chat(s, r.token)).status, 200);
  const second = await chat(s, r.token);
  assert.equal(second.status, 429, second.text);
  assert.equal(second.json.error.code, 'rate_limit_exceeded');
  assert.match(second.json.error.message, /tpm limit of 1 tokens per minute reached for this token/);
  const wait = retryAfter(second);
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
});

test('models: others get 403 and are hidden from model lists (native and OpenAI)', async (t) => {
  const s = await adminStack(t, fake);
  const tok = await createToken(s, {models: ['gemini-2.5-flash', 'gemini-*-lite']});
  const calls0 = s.fake.stats().total;
  const pro = await native(s, tok.token, {model: 'gemini-2.5-pro'});
  assert.equal(pro.status, 403, pro.text);
  assert.equal(pro.json.error.status, 'PERMISSION_DENIED');
  assert.match(pro.json.error.message, /^model not allowed for this token/);
  const proChat = await chat(s, tok.token, {model: 'gemini-2.5-pro'});
  assert.equal(proChat.status, 403, proChat.text);
  assert.match(proChat.json.error.message, /^model not allowed for this token/);
  assert.equal(s.fake.stats().total, calls0, 'refused before any upstream call');
  assert.equal((await native(s, tok.token)).status, 200);
  assert.equal((await native(s, tok.token, {model: 'gemini-2.5-flash-lite'})).status, 200);
  assert.equal((await chat(s, tok.token, {model: 'gemini-2.0-flash-lite'})).status === 403, false);

  const list = await call(s.gw, '/v1beta/models', {token: tok.token});
  assert.equal(list.status, 200, list.text);
  const names = list.json.models.map((m) => m.name).sort();
  assert.deepEqual(names, ['models/gemini-2.5-flash', 'models/gemini-2.5-flash-lite']);
  const oa = await call(s.gw, '/v1/models', {token: tok.token, via: 'bearer'});
  assert.equal(oa.status, 200, oa.text);
  assert.deepEqual(oa.json.data.map((m) => m.id).sort(), ['gemini-2.5-flash', 'gemini-2.5-flash-lite']);
  const get = await call(s.gw, '/v1beta/models/gemini-2.5-pro', {token: tok.token});
  assert.equal(get.status, 403);
  // A token without a list sees every model.
  const all = await call(s.gw, '/v1beta/models', {token: s.token});
  assert.ok(all.json.models.length > 2);
});

test('expires_at and enabled: refused with 401 from the next request, editable live', async (t) => {
  const s = await adminStack(t, fake);
  const tok = await createToken(s, {expires_at: Date.now() - 1000});
  const calls0 = s.fake.stats().total;
  const expired = await native(s, tok.token);
  assert.equal(expired.status, 401);
  assert.match(expired.json.error.message, /expired/);
  assert.equal((await chat(s, tok.token)).status, 401);
  assert.equal((await tokenItem(s, tok.id)).expired, true);
  ok(await api(s, 'PATCH', `${tokensPath}/${tok.id}`, {body: {expires_at: Date.now() + 3600_000}}));
  assert.equal((await native(s, tok.token)).status, 200);
  const off = ok(await api(s, 'PATCH', `${tokensPath}/${tok.id}`, {body: {enabled: false}}));
  assert.equal(off.enabled, false);
  const disabled = await chat(s, tok.token);
  assert.equal(disabled.status, 401);
  assert.match(disabled.json.error.message, /disabled/);
  ok(await api(s, 'PATCH', `${tokensPath}/${tok.id}`, {body: {enabled: true, expires_at: null}}));
  assert.equal((await native(s, tok.token)).status, 200);
  assert.equal(s.fake.stats().total - calls0, 2, 'only the two allowed calls went upstream');
});

test('quotas survive a restart', async (t) => {
  const s = await adminStack(t, fake);
  const tok = await createToken(s, {daily_tokens: 1, label: 'kept'});
  assert.equal((await native(s, tok.token)).status, 200);
  assert.equal((await native(s, tok.token)).status, 429);
  const before = (await tokenItem(s, tok.id)).usage.today;
  await s.gw.restart();
  const again = await native(s, tok.token);
  assert.equal(again.status, 429, `still over quota after the restart: ${again.text}`);
  const item = await tokenItem(s, tok.id);
  assert.equal(item.daily_tokens, 1);
  assert.equal(item.label, 'kept');
  assert.equal(item.usage.today.tokens, before.tokens);
  assert.equal(item.usage.today.requests, before.requests + 1);
});

test('admin API: the fields round-trip, PATCH changes only what it names, errors name the field', async (t) => {
  const s = await adminStack(t, fake);
  const c = await createToken(s, {label: 'tenant', models: ['gemini-2.5-flash'], rpm: 10, tpm: 5000,
                                  daily_tokens: 100000, monthly_tokens: 2000000,
                                  expires_at: 4102444800000, key_group: 'paid', enabled: true});
  for (const [f, v] of Object.entries({label: 'tenant', rpm: 10, tpm: 5000, daily_tokens: 100000,
                                         monthly_tokens: 2000000, expires_at: 4102444800000,
                                         key_group: 'paid', enabled: true})) {
    assert.equal(c[f], v, f);
  }
  assert.deepEqual(c.models, ['gemini-2.5-flash']);
  const p = ok(await api(s, 'PATCH', `${tokensPath}/${c.id}`, {body: {rpm: 3, models: null}}));
  assert.equal(p.rpm, 3);
  assert.deepEqual(p.models, []);
  assert.equal(p.label, 'tenant');
  assert.equal(p.tpm, 5000);
  assert.equal(p.key_group, 'paid');
  const listed = await tokenItem(s, c.id);
  assert.equal(listed.rpm, 3);
  assert.ok(!('token' in listed));
  for (const [body, field] of [[{rpm: -1}, 'rpm'], [{tpm: 'x'}, 'tpm'], [{daily_tokens: 1.5}, 'daily_tokens'],
                               [{monthly_tokens: -5}, 'monthly_tokens'], [{models: 'gemini'}, 'models'],
                               [{models: ['bad name']}, 'models'], [{expires_at: 'tomorrow'}, 'expires_at'],
                               [{key_group: 'a b'}, 'key_group'], [{key_group: 5}, 'key_group'],
                               [{enabled: 'yes'}, 'enabled'], [{rmp: 5}, 'rmp']]) {
    adminError(await api(s, 'POST', tokensPath, {body}), 400, field);
    adminError(await api(s, 'PATCH', `${tokensPath}/${c.id}`, {body}), 400, field);
  }
  adminError(await api(s, 'PATCH', `${tokensPath}/${c.id}`, {body: {token: 'another-token-1'}}), 400, 'token');
  adminError(await api(s, 'PATCH', `${tokensPath}/987654`, {body: {rpm: 1}}), 404);
  assert.equal((await tokenItem(s, c.id)).rpm, 3, 'a refused PATCH changed nothing');
});

test('GET /admin/api/stats?token_id=N counts only that token', async (t) => {
  const s = await adminStack(t, fake);
  const a = await createToken(s, {label: 'a'});
  for (let i = 0; i < 3; i++) assert.equal((await native(s, a.token)).status, 200);
  assert.equal((await native(s, s.token)).status, 200);
  let stats;
  for (let i = 0; i < 50; i++) {
    stats = ok(await api(s, 'GET', `/admin/api/stats?token_id=${a.id}&window=1h`));
    if (stats.totals?.requests === 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(stats.totals.requests, 3, JSON.stringify(stats.totals));
  assert.equal(stats.token_id, a.id);
  const all = ok(await api(s, 'GET', '/admin/api/stats?window=1h'));
  assert.ok(all.totals.requests >= 4);
  adminError(await api(s, 'GET', '/admin/api/stats?token_id=abc'), 400, 'token_id');
});

test('the Anthropic and Responses fronts enforce the same policy in their own shapes', async (t) => {
  const s = await adminStack(t, fake);
  const tok = await createToken(s, {models: ['gemini-2.5-flash'], rpm: 3});
  const messages = (model) => call(s.gw, '/v1/messages', {
    token: tok.token, via: 'bearer', headers: {'anthropic-version': '2023-06-01'},
    body: {model, max_tokens: 16, messages: [{role: 'user', content: 'hi'}]},
  });
  const denied = await messages('gemini-2.5-pro');
  assert.equal(denied.status, 403, denied.text);
  assert.equal(denied.json.type, 'error');
  assert.equal(denied.json.error.type, 'permission_error');
  assert.match(denied.json.error.message, /^model not allowed for this token/);
  assert.equal((await messages('gemini-2.5-flash')).status, 200);
  const responses = await call(s.gw, '/v1/responses', {
    token: tok.token, via: 'bearer', body: {model: 'gemini-2.5-flash', input: 'hi', store: false},
  });
  assert.equal(responses.status, 200, responses.text);
  const fourth = await messages('gemini-2.5-flash');
  assert.equal(fourth.status, 429, fourth.text);
  assert.equal(fourth.json.error.type, 'rate_limit_error');
  assert.match(fourth.json.error.message, /rpm limit of 3 requests per minute/);
  assert.ok(fourth.headers.get('retry-after'));
});
