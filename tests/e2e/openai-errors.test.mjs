// End to end with the official OpenAI Node SDK: errors as the SDK sees them. Upstream errors map
// to the SDK's error classes (BadRequestError, RateLimitError, InternalServerError, ...) in
// OpenAI's {"error":{message,type,param,code}} shape; pool-key trouble is the gateway's business
// (an invalid pool key is failed over and never looks like the client's bad credentials); bad
// requests and bad credentials are refused before anything goes upstream. SDK retries are off
// (maxRetries 0) so each test sees the gateway's first answer. Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, sdkRejects, assertOpenAIErrorShape, poolKey,
        PREFIXES} from './openai-support.mjs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {clientToken} from '../support/gateway.mjs';

let OpenAI, fake, s;
before(async () => {
  OpenAI = await loadOpenAI();
  fake = await startFakeGemini();
  s = await openaiStack({fake});
});
after(async () => {
  await s?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const MODEL = 'gemini-2.5-flash';
const chat = (client, content = 'hi', extra = {}) =>
  client.chat.completions.create({model: MODEL, messages: [{role: 'user', content}], ...extra});

/** A gateway of its own (key health is state) on the shared fake. */
async function ownStack(t, keys) {
  const st = await openaiStack({fake, keys});
  t.after(() => st.close());
  return st;
}

test('a Gemini 400 → BadRequestError with the upstream message; not retried', async () => {
  const m = s.mark();
  const err = await sdkRejects(() => chat(s.client(), 'bad [[status=400]]'), OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(err.error, {type: 'invalid_request_error'});
  assert.match(err.message, /Request contains an invalid argument/);
  assert.equal(s.upstreamSince(m).length, 1, 'a client error is not retried on another key');
});

test('an unknown model → NotFoundError 404 model_not_found', async () => {
  const err = await sdkRejects(
      () => s.client().chat.completions.create({model: 'gemini-9-ultra', messages: [{role: 'user', content: 'x'}]}),
      OpenAI.NotFoundError, 404);
  assertOpenAIErrorShape(err.error, {code: 'model_not_found'});
  assert.match(err.message, /gemini-9-ultra/);
});

test('an invalid pool key is failed over: with one invalid and one valid key every call succeeds',
     async (t) => {
  const bad = poolKey('Invalid'), good = poolKey('Valid');
  const st = await ownStack(t, [bad, good]);
  const client = st.client();
  for (let i = 0; i < 4; i++) {
    const r = await chat(client, `failover ${i}`);
    assert.equal(r.choices[0].message.content, `echo: failover ${i}`);
  }
  assert.equal(fake.callsFor(bad), 1, 'the invalid key was tried once, then disabled');
  assert.equal(fake.callsFor(good), 4);
});

test('a pool of only invalid keys is a gateway-side 5xx, never a 401 AuthenticationError', async (t) => {
  const st = await ownStack(t, [poolKey('Invalid')]);
  for (let i = 0; i < 2; i++) {  // first call meets the key, the second finds it disabled
    let err;
    try {
      await chat(st.client(), `dead pool ${i}`);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.APIError, `call ${i} failed (${err?.message})`);
    assert.ok(!(err instanceof OpenAI.AuthenticationError),
              `call ${i}: the client's own credentials are fine, so no 401 (got ${err.status})`);
    assert.ok(err.status >= 500, `call ${i}: 5xx (got ${err.status}: ${err.message})`);
    assertOpenAIErrorShape(err.error, {type: 'server_error'});
    assert.ok(!err.message.includes(st.keys[0]), 'no pool key in the message');
  }
  assert.equal(fake.stats().total, 1, 'the disabled key is not called again');
});

test('all keys out of quota → RateLimitError 429 with Retry-After', async (t) => {
  const keys = [poolKey('Quota'), poolKey('Quota')];
  const st = await ownStack(t, keys);
  const err = await sdkRejects(() => chat(st.client(), 'no quota'), OpenAI.RateLimitError, 429);
  assertOpenAIErrorShape(err.error, {type: 'rate_limit_error'});
  const ra = Number(err.headers.get('retry-after'));
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 30, `Retry-After in seconds (${ra})`);
  assert.deepEqual(keys.map((k) => fake.callsFor(k)), [1, 1], 'each key tried once');
  for (const k of keys) assert.ok(!err.message.includes(k), 'no pool key in the message');
  // Both keys now cool down: the next call is refused at once, without an upstream call.
  const err2 = await sdkRejects(() => chat(st.client(), 'still none'), OpenAI.RateLimitError, 429);
  assertOpenAIErrorShape(err2.error, {type: 'rate_limit_error'});
  assert.equal(fake.stats().total, 2);
});

// Every key failing the same way is an upstream outage (filters/keys/README.md): gemgate answers
// with its own 503 and a Retry-After, and no key is penalised.
test('upstream 503 on every key → InternalServerError (5xx) with Retry-After, each key tried once', async (t) => {
  const keys = [poolKey('Overload'), poolKey('Overload')];
  const st = await ownStack(t, keys);
  const err = await sdkRejects(() => chat(st.client(), 'overloaded'), OpenAI.InternalServerError);
  assert.equal(err.status, 503, err.message);
  assertOpenAIErrorShape(err.error, {type: 'server_error'});
  assert.match(err.message, /unavailable/i);
  assert.ok(Number(err.headers.get('retry-after')) >= 1, 'Retry-After on an outage');
  assert.deepEqual(keys.map((k) => fake.callsFor(k)), [1, 1]);
});

test('upstream errors on streams: the SDK call rejects before any chunk', async (t) => {
  const st = await ownStack(t, [poolKey('Overload')]);
  const err = await sdkRejects(async () => {
    const stream = await chat(st.client(), 'stream overloaded', {stream: true});
    for await (const c of stream) void c;
  }, OpenAI.InternalServerError);
  assert.ok(err.status >= 500);
});

/** Checks that nothing reached the upstream since mark and returns nothing. */
function nothingUpstream(mark, what) {
  assert.equal(s.upstreamSince(mark).length, 0, `${what}: nothing sent upstream`);
}

test('bad requests → BadRequestError 400 in OpenAI\'s shape, nothing sent upstream', async () => {
  const cases = [
    ['no messages', {model: MODEL}, 'messages'],
    ['empty messages', {model: MODEL, messages: []}, 'messages'],
    ['unknown role', {model: MODEL, messages: [{role: 'robot', content: 'beep'}]}, 'messages[0].role'],
    ['no model', {messages: [{role: 'user', content: 'x'}]}, 'model'],
    ['bad tool arguments', {model: MODEL, messages: [
      {role: 'user', content: 'x'},
      {role: 'assistant', tool_calls: [{id: 'c1', type: 'function',
                                        function: {name: 'f', arguments: '{city: Paris'}}]}]},
     'messages[1].tool_calls[0].function.arguments'],
    ['six stop sequences', {model: MODEL, messages: [{role: 'user', content: 'x'}],
                            stop: ['a', 'b', 'c', 'd', 'e', 'f']}, 'stop'],
  ];
  for (const [what, body, param] of cases) {
    const m = s.mark();
    const err = await sdkRejects(() => s.client().chat.completions.create(body),
                                 OpenAI.BadRequestError, 400);
    assertOpenAIErrorShape(err.error, {type: 'invalid_request_error', param});
    nothingUpstream(m, what);
  }
});

test('a body that is not JSON (raw fetch) → 400 in OpenAI\'s shape, nothing sent upstream', async () => {
  for (const prefix of PREFIXES) {
    const m = s.mark();
    const res = await fetch(s.url(`${prefix}/chat/completions`), {
      method: 'POST', body: '{"model": "gemini-2.5-flash", "messages": [',
      headers: {'content-type': 'application/json', authorization: `Bearer ${s.token}`}});
    assert.equal(res.status, 400, prefix);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const json = await res.json();
    assertOpenAIErrorShape(json.error, {type: 'invalid_request_error'});
    nothingUpstream(m, `invalid JSON on ${prefix}`);
  }
});

test('a wrong API key → AuthenticationError 401, nothing sent upstream', async () => {
  for (const prefix of PREFIXES) {
    const m = s.mark();
    const err = await sdkRejects(() => chat(s.client({prefix, apiKey: clientToken('wrong')})),
                                 OpenAI.AuthenticationError, 401);
    assertOpenAIErrorShape(err.error, {code: 'invalid_api_key'});
    nothingUpstream(m, `wrong key on ${prefix}`);
  }
  const m = s.mark();
  await sdkRejects(() => s.client({apiKey: s.keys[0]}).models.list(), OpenAI.AuthenticationError, 401);
  nothingUpstream(m, 'a pool key used as a client token');
});

test('the OpenAI routes accept only Authorization: Bearer (no ?key=, no x-goog-api-key)', async () => {
  const body = JSON.stringify({model: MODEL, messages: [{role: 'user', content: 'x'}]});
  const attempts = [
    ['none', '/v1/chat/completions', {}],
    ['?key=', `/v1/chat/completions?key=${s.token}`, {}],
    ['?key= on /openai/v1', `/openai/v1/chat/completions?key=${s.token}`, {}],
    ['?key= on /hf/v1', `/hf/v1/chat/completions?key=${s.token}`, {}],
    ['x-goog-api-key', '/v1/chat/completions', {'x-goog-api-key': s.token}],
  ];
  for (const [what, path, headers] of attempts) {
    const m = s.mark();
    const res = await fetch(s.url(path), {method: 'POST', body,
                                          headers: {'content-type': 'application/json', ...headers}});
    assert.equal(res.status, 401, what);
    const json = await res.json();
    assertOpenAIErrorShape(json.error);
    assert.ok(!JSON.stringify(json).includes(s.token), `${what}: the token is not echoed`);
    nothingUpstream(m, what);
  }
  const m = s.mark();
  const res = await fetch(s.url('/v1/models?key=' + s.token));
  assert.equal(res.status, 401, '?key= on GET /v1/models');
  nothingUpstream(m, '?key= on models');
});

test('unknown endpoints and wrong methods are refused in OpenAI\'s shape', async () => {
  const auth = {authorization: `Bearer ${s.token}`};
  const m = s.mark();
  const nf = await fetch(s.url('/v1/completions'), {method: 'POST', headers: auth, body: '{}'});
  assert.equal(nf.status, 404);
  assertOpenAIErrorShape((await nf.json()).error);
  const wm = await fetch(s.url('/v1/chat/completions'), {headers: auth});
  assert.equal(wm.status, 405);
  assertOpenAIErrorShape((await wm.json()).error);
  nothingUpstream(m, 'unknown endpoint / wrong method');
});
