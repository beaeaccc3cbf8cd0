// Gemini-shaped paths under /v1/ (a Gemini client whose base URL is the gateway's root and whose
// API version is v1) reach the native chain; OpenAI's /v1/ paths stay OpenAI's. Raw HTTP here;
// the @google/genai SDK with apiVersion 'v1' is in tests/e2e/genai-v1.test.mjs.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, genBody, sseEvents} from '../support/gateway.mjs';

let fake, s;
before(async () => {
  fake = await startFakeGemini();
  s = await startStack({fake});
});
after(async () => {
  await s?.close();
  await fake?.close();
});

const M = '/v1/models/gemini-2.5-flash';

test('generateContent under /v1/ with x-goog-api-key or ?key= is served by the Gemini chain', async () => {
  for (const via of ['header', 'query']) {
    const r = await call(s.gw, `${M}:generateContent`, {body: genBody('hello v1'), token: s.token, via});
    assert.equal(r.status, 200, `${via}: ${r.text}`);
    assert.equal(r.json.candidates[0].content.parts[0].text, 'echo: hello v1');
    assert.equal(fake.requests().at(-1).path, '/v1/models/gemini-2.5-flash:generateContent',
                 'the upstream gets the v1 path unchanged');
  }
});

test('streamGenerateContent, countTokens, embedContent and batchEmbedContents under /v1/', async () => {
  const res = await call(s.gw, `${M}:streamGenerateContent?alt=sse`,
                         {body: genBody('stream [[chunks=3]]'), token: s.token, raw: true});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const sse = await sseEvents(res);
  assert.ok(sse.complete, 'the stream ended normally');
  assert.ok(sse.events.length >= 3, `got ${sse.events.length} events`);

  const count = await call(s.gw, `${M}:countTokens`, {body: genBody('count me'), token: s.token});
  assert.equal(count.status, 200, count.text);
  assert.ok(count.json.totalTokens > 0);

  const E = '/v1/models/text-embedding-004';
  const one = await call(s.gw, `${E}:embedContent`,
                         {body: {content: {parts: [{text: 'a'}]}}, token: s.token});
  assert.equal(one.status, 200, one.text);
  assert.ok(Array.isArray(one.json.embedding.values));
  const batch = await call(s.gw, `${E}:batchEmbedContents`, {token: s.token, body: {
    requests: [{model: 'models/text-embedding-004', content: {parts: [{text: 'a'}]}},
               {model: 'models/text-embedding-004', content: {parts: [{text: 'b'}]}}]}});
  assert.equal(batch.status, 200, batch.text);
  assert.equal(batch.json.embeddings.length, 2);
});

test('files, cachedContents, tunedModels and operations under /v1/ go to the Gemini chain', async () => {
  // (GET /v1/files and /v1/cachedContents lists are the calling token's own resources, answered
  // from the affinity map: see affinity.test.mjs.)
  for (const p of ['/v1/files/abc', '/v1/tunedModels/t1', '/v1/operations/op1']) {
    const before = fake.requests().length;
    const r = await call(s.gw, p, {token: s.token});
    // The OpenAI chain would refuse x-goog-api-key with 401 "... 'Authorization: Bearer' ...".
    assert.notEqual(r.status, 401, `${p}: ${r.text}`);
    assert.doesNotMatch(r.text, /Bearer/, p);
    assert.equal(fake.requests().length, before + 1, `${p} reached the upstream`);
    assert.equal(fake.requests().at(-1).path, p);
  }
});

test("OpenAI's /v1/ paths stay OpenAI's: models list, model get, chat completions, embeddings", async () => {
  const list = await call(s.gw, '/v1/models', {token: s.token, via: 'bearer'});
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.object, 'list');
  const one = await call(s.gw, '/v1/models/gemini-2.5-flash', {token: s.token, via: 'bearer'});
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.object, 'model');
  assert.equal(one.json.id, 'gemini-2.5-flash');
  const chat = await call(s.gw, '/v1/chat/completions', {token: s.token, via: 'bearer', body: {
    model: 'gemini-2.5-flash', messages: [{role: 'user', content: 'hi'}]}});
  assert.equal(chat.status, 200, chat.text);
  assert.equal(chat.json.object, 'chat.completion');
  const emb = await call(s.gw, '/v1/embeddings', {token: s.token, via: 'bearer', body: {
    model: 'text-embedding-004', input: 'hi'}});
  assert.equal(emb.status, 200, emb.text);
  assert.equal(emb.json.object, 'list');
  // And the OpenAI chain still wants a bearer token there (its own rule, unchanged).
  const noBearer = await call(s.gw, '/v1/models/gemini-2.5-flash', {token: s.token});
  assert.equal(noBearer.status, 401);
});
