// End to end with Google's official JavaScript SDK (@google/genai, pinned in tests/package.json):
// a user points the SDK at gemgate with `httpOptions.baseUrl` and their gemgate token as the API
// key, and every common call works, while the upstream sees a pool key and the SDK's own payload.
// Needs `npm ci` in tests/.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey, clientToken} from '../support/gateway.mjs';

let GoogleGenAI, fake, s;
before(async () => {
  try {
    ({GoogleGenAI} = await import('@google/genai'));
  } catch (e) {
    throw new Error(`@google/genai is not installed: run \`npm ci\` in tests/ (${e.message})`);
  }
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid')]});
});
after(async () => {
  await s?.close();
  await fake?.close();
});

function client(opts = {}) {
  return new GoogleGenAI({apiKey: opts.apiKey || s.token,
                          httpOptions: {baseUrl: opts.baseUrl || s.gw.url, ...opts.httpOptions}});
}

/** The last upstream request, checked for the pool key / client token swap. */
function lastUpstream() {
  const rec = fake.requests().at(-1);
  assert.ok(s.keys.includes(rec.headers['x-goog-api-key']), 'pool key sent upstream');
  assert.ok(!JSON.stringify(rec).includes(s.token), 'client token not sent upstream');
  return rec;
}

test('generateContent', async () => {
  const r = await client().models.generateContent({
    model: 'gemini-2.5-flash', contents: 'Hello from the SDK',
    config: {temperature: 0.2, systemInstruction: 'be brief'},
  });
  assert.equal(r.text, 'echo: Hello from the SDK');
  assert.equal(r.candidates[0].finishReason, 'STOP');
  assert.ok(r.usageMetadata.totalTokenCount > 0);
  assert.equal(r.modelVersion, 'gemini-2.5-flash');
  const rec = lastUpstream();
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  const body = JSON.parse(rec.body);
  assert.equal(body.contents[0].parts[0].text, 'Hello from the SDK');
  assert.equal(body.generationConfig.temperature, 0.2);
  assert.equal(body.systemInstruction.parts[0].text, 'be brief');
});

test('generateContentStream yields chunks as they come', async () => {
  const t0 = Date.now();
  const stream = await client().models.generateContentStream({
    model: 'gemini-2.5-flash', contents: 'stream please [[chunks=6 interval=150]]',
  });
  const got = [];
  for await (const chunk of stream) got.push({text: chunk.text, at: Date.now()});
  assert.equal(got.length, 6);
  assert.equal(got.map((g) => g.text).join(''), 'echo: stream please #1 #2 #3 #4 #5');
  assert.ok(got[0].at - t0 < 600, 'first chunk early');
  assert.ok(got.at(-1).at - got[0].at >= 500, 'chunks spread over time');
  const rec = lastUpstream();
  assert.equal(rec.action, 'streamGenerateContent');
  assert.equal(rec.query.alt, 'sse');
});

test('countTokens', async () => {
  const r = await client().models.countTokens({model: 'gemini-2.5-flash', contents: '12345678'});
  assert.equal(r.totalTokens, 2);
  assert.equal(lastUpstream().action, 'countTokens');
});

test('embedContent (the SDK uses batchEmbedContents)', async () => {
  const r = await client().models.embedContent({
    model: 'text-embedding-004', contents: ['first text', 'second text'],
    config: {outputDimensionality: 16},
  });
  assert.equal(r.embeddings.length, 2);
  assert.equal(r.embeddings[0].values.length, 16);
  assert.notDeepEqual(r.embeddings[0].values, r.embeddings[1].values);
  const rec = lastUpstream();
  assert.equal(rec.action, 'batchEmbedContents');
  assert.equal(JSON.parse(rec.body).requests.length, 2);
});

test('models.list pages through every model, models.get', async () => {
  const pager = await client().models.list({config: {pageSize: 2}});
  const names = [];
  for await (const m of pager) names.push(m.name);
  for (const m of ['gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.5-pro',
                   'text-embedding-004', 'gemini-embedding-001']) {
    assert.ok(names.includes(`models/${m}`), `${m} listed`);
  }
  const pages = fake.requests().filter((r) => r.action === 'list');
  assert.ok(pages.length >= 3, 'several pages fetched through the gateway');
  assert.ok(pages.slice(1).every((r) => r.query.pageToken), 'pageToken forwarded');
  const one = await client().models.get({model: 'gemini-2.5-pro'});
  assert.equal(one.displayName, 'Gemini 2.5 Pro');
});

test('the /gemini prefix and apiVersion v1 work as base URLs', async () => {
  const r = await client({baseUrl: `${s.gw.url}/gemini`}).models.generateContent({
    model: 'gemini-2.5-flash', contents: 'prefixed'});
  assert.equal(r.text, 'echo: prefixed');
  assert.equal(lastUpstream().path, '/v1beta/models/gemini-2.5-flash:generateContent');
  const v1 = await client({baseUrl: `${s.gw.url}/gemini`, httpOptions: {apiVersion: 'v1'}})
      .models.generateContent({model: 'gemini-2.5-flash', contents: 'on v1'});
  assert.equal(v1.text, 'echo: on v1');
  assert.equal(lastUpstream().path, '/v1/models/gemini-2.5-flash:generateContent');
});

test('a wrong token surfaces as an SDK ApiError with status 401', async () => {
  const before = fake.stats().total;
  await assert.rejects(
      client({apiKey: clientToken('wrong')}).models.generateContent({model: 'gemini-2.5-flash', contents: 'x'}),
      (e) => e.status === 401 && /UNAUTHENTICATED|401/.test(e.message));
  assert.equal(fake.stats().total, before, 'nothing sent upstream');
});

test('upstream errors reach the SDK in Google\'s shape (unknown model → 404)', async () => {
  await assert.rejects(
      client().models.generateContent({model: 'gemini-9-ultra', contents: 'x'}),
      (e) => e.status === 404 && /gemini-9-ultra/.test(e.message));
});
