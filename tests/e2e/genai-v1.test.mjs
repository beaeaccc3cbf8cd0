// @google/genai with `apiVersion: 'v1'` and the gateway's root as base URL: the SDK sends
// /v1/models/{model}:method paths, which gemgate routes to its native chain (not OpenAI's).
// Needs `npm ci` in tests/.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';

let GoogleGenAI, fake, s;
before(async () => {
  try {
    ({GoogleGenAI} = await import('@google/genai'));
  } catch (e) {
    throw new Error(`@google/genai is not installed: run \`npm ci\` in tests/ (${e.message})`);
  }
  fake = await startFakeGemini();
  s = await startStack({fake});
});
after(async () => {
  await s?.close();
  await fake?.close();
});

function client() {
  return new GoogleGenAI({apiKey: s.token, apiVersion: 'v1', httpOptions: {baseUrl: s.gw.url}});
}

test('generateContent with apiVersion v1', async () => {
  const r = await client().models.generateContent({model: 'gemini-2.5-flash', contents: 'Hi v1'});
  assert.equal(r.text, 'echo: Hi v1');
  assert.equal(fake.requests().at(-1).path, '/v1/models/gemini-2.5-flash:generateContent');
});

test('generateContentStream with apiVersion v1', async () => {
  const stream = await client().models.generateContentStream({
    model: 'gemini-2.5-flash', contents: 'stream v1 [[chunks=4]]'});
  let chunks = 0;
  let text = '';
  for await (const c of stream) {
    chunks++;
    text += c.text || '';
  }
  assert.ok(chunks >= 4, `got ${chunks} chunks`);
  assert.ok(text.length > 0);
  assert.match(fake.requests().at(-1).path, /^\/v1\/models\/gemini-2\.5-flash:streamGenerateContent/);
});

test('countTokens and embedContent with apiVersion v1', async () => {
  const c = await client().models.countTokens({model: 'gemini-2.5-flash', contents: 'count'});
  assert.ok(c.totalTokens > 0);
  const e = await client().models.embedContent({model: 'text-embedding-004', contents: 'embed'});
  assert.ok(e.embeddings[0].values.length > 0);
});
