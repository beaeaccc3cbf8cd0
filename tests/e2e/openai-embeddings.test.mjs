// End to end with the official OpenAI Node SDK: embeddings and models through gemgate.
// Embeddings: the SDK asks for base64 by default and decodes float32 itself, so the vectors it
// returns must equal the upstream's numbers within float32 precision; arrays become
// batchEmbedContents calls of at most 100, re-assembled in input order. Models: ids without the
// "models/" prefix. Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, recordingFetch, sdkRejects, assertOpenAIErrorShape,
        PREFIXES} from './openai-support.mjs';
import {fakeEmbedding, MODELS} from '../support/fake-gemini-content.mjs';

let OpenAI, s;
before(async () => {
  OpenAI = await loadOpenAI();
  s = await openaiStack();
});
after(async () => { await s?.close(); });
beforeEach(() => s.fake.reset());

const EMB = 'text-embedding-004';  // 768 dimensions in the fake

/** Asserts `got` equals the upstream's `want` within float32 precision, element by element. */
function assertVectorClose(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = Math.abs(want[i]) * 2 ** -22 + 1e-12;  // float32 has a 24-bit mantissa
    if (Math.abs(got[i] - want[i]) > tol) {
      assert.fail(`${what}[${i}]: got ${got[i]}, upstream sent ${want[i]}`);
    }
  }
}

test('array input, SDK default encoding (base64): decoded vectors equal the upstream\'s, in order',
     async () => {
  const input = ['first text', 'second text', 'a third, longer piece of text'];
  const rf = recordingFetch();
  const m = s.mark();
  const r = await s.client({fetch: rf}).embeddings.create({model: EMB, input});
  assert.equal(JSON.parse(rf.log[0].requestBody).encoding_format, 'base64',
               'the SDK asked for base64 (its default)');
  const wire = JSON.parse(await rf.log[0].raw);
  assert.ok(wire.data.every((d) => typeof d.embedding === 'string'),
            'the gateway answered base64 strings, as asked');

  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${EMB}:batchEmbedContents`);
  assert.deepEqual(rec.json.requests, input.map((text) => ({
    model: `models/${EMB}`, content: {parts: [{text}]}})));

  assert.equal(r.object, 'list');
  assert.equal(r.model, EMB);
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assertVectorClose(d.embedding, fakeEmbedding(input[i], 768), `data[${i}]`);
  });
  assert.ok(r.usage.prompt_tokens > 0, 'an estimated usage, never negative');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
});

test('encoding_format float returns plain numbers', async () => {
  const r = await s.client().embeddings.create({model: EMB, input: ['floats'],
                                                encoding_format: 'float'});
  assert.ok(Array.isArray(r.data[0].embedding));
  assert.equal(typeof r.data[0].embedding[0], 'number');
  const want = fakeEmbedding('floats', 768);
  r.data[0].embedding.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-9, `[${i}]`));
});

test('a single string input → one embedContent call', async () => {
  const m = s.mark();
  const r = await s.client().embeddings.create({model: EMB, input: 'just one'});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${EMB}:embedContent`);
  assert.deepEqual(rec.json.content, {parts: [{text: 'just one'}]});
  assert.equal(r.data.length, 1);
  assertVectorClose(r.data[0].embedding, fakeEmbedding('just one', 768), 'data[0]');
});

test('dimensions → outputDimensionality on every request', async () => {
  const m = s.mark();
  const r = await s.client().embeddings.create({model: 'gemini-embedding-001', input: ['a', 'b'],
                                                dimensions: 16});
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.requests.map((q) => q.outputDimensionality), [16, 16]);
  assert.deepEqual(r.data.map((d) => d.embedding.length), [16, 16]);
  assertVectorClose(r.data[1].embedding, fakeEmbedding('b', 16), 'data[1]');
});

test('250 inputs → batchEmbedContents calls of 100, 100 and 50; results in input order', async () => {
  const input = Array.from({length: 250}, (_, i) => `input number ${i}`);
  const m = s.mark();
  const r = await s.client().embeddings.create({model: EMB, input, dimensions: 8});
  const recs = s.upstreamSince(m);
  assert.equal(recs.length, 3, `three upstream calls (got ${recs.length})`);
  const sizes = recs.map((rec) => {
    assert.equal(rec.path, `/v1beta/models/${EMB}:batchEmbedContents`);
    return JSON.parse(rec.body).requests.length;
  });
  assert.deepEqual(sizes, [100, 100, 50]);
  const sentTexts = recs.flatMap((rec) => JSON.parse(rec.body).requests.map((q) => q.content.parts[0].text));
  assert.deepEqual(sentTexts, input, 'inputs split in order, none lost or repeated');
  assert.equal(r.data.length, 250);
  r.data.forEach((d, i) => {
    assert.equal(d.index, i);
    assertVectorClose(d.embedding, fakeEmbedding(input[i], 8), `data[${i}]`);
  });
});

/** The batchEmbedContents answer the fake itself would give for these texts. */
const batchAnswer = (texts, dims) => ({embeddings: texts.map((t) => ({values: fakeEmbedding(t, dims)}))});

test('a batch failing in the middle of a multi-call plan: the SDK gets the error, no later call',
     async () => {
  const input = Array.from({length: 250}, (_, i) => `mid-fail ${i}`);
  s.fake.script([
    {match: {pathIncludes: ':batchEmbedContents'}, body: batchAnswer(input.slice(0, 100), 4)},
    {match: {pathIncludes: ':batchEmbedContents'}, status: 400, body: {error: {
      code: 400, message: '* BatchEmbedContentsRequest.requests[3].content: text too long',
      status: 'INVALID_ARGUMENT'}}},
  ]);
  const m = s.mark();
  const err = await sdkRejects(() => s.client().embeddings.create({model: EMB, input, dimensions: 4}),
                               OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(err.error, {type: 'invalid_request_error'});
  assert.match(err.message, /text too long/);
  assert.equal(s.upstreamSince(m).length, 2, 'the plan stops at the failing call');
});

test('a 503 on one batch of a multi-call plan is retried on another key; the result is complete',
     async () => {
  const input = Array.from({length: 150}, (_, i) => `retry me ${i}`);
  s.fake.script([
    {match: {pathIncludes: ':batchEmbedContents'}, body: batchAnswer(input.slice(0, 100), 4)},
    {match: {pathIncludes: ':batchEmbedContents'}, status: 503, body: {error: {
      code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE'}}},
  ]);
  const m = s.mark();
  const r = await s.client().embeddings.create({model: EMB, input, dimensions: 4});
  const recs = s.upstreamSince(m);
  assert.equal(recs.length, 3, 'batch 1, batch 2 (503), batch 2 again');
  assert.equal(recs[2].body, recs[1].body, 'the same batch was retried');
  assert.notEqual(recs[2].key, recs[1].key, 'on another key');
  assert.equal(r.data.length, 150);
  r.data.forEach((d, i) => {
    assert.equal(d.index, i);
    assertVectorClose(d.embedding, fakeEmbedding(input[i], 4), `data[${i}]`);
  });
});

test('token-id input is a 400 in OpenAI\'s shape, nothing sent upstream', async () => {
  for (const [input, param] of [[[1, 2, 3], 'input'], [[[1, 2], [3, 4]], 'input[0]']]) {
    const m = s.mark();
    const err = await sdkRejects(() => s.client().embeddings.create({model: EMB, input}),
                                 OpenAI.BadRequestError, 400);
    assertOpenAIErrorShape(err.error, {type: 'invalid_request_error', param});
    assert.equal(s.upstreamSince(m).length, 0, `nothing upstream for ${JSON.stringify(input)}`);
  }
});

test('embeddings on all three route prefixes', async () => {
  for (const prefix of PREFIXES) {
    const r = await s.client({prefix}).embeddings.create({model: EMB, input: [prefix]});
    assertVectorClose(r.data[0].embedding, fakeEmbedding(prefix, 768), prefix);
  }
});

test('models.list: every upstream model, ids without "models/", owned_by google', async () => {
  const m = s.mark();
  const ids = [];
  for await (const model of s.client().models.list()) {
    assert.equal(model.object, 'model');
    assert.equal(model.owned_by, 'google');
    assert.equal(typeof model.created, 'number');
    ids.push(model.id);
  }
  assert.deepEqual(ids.slice().sort(), MODELS.map((x) => x.id).sort());
  assert.ok(ids.every((id) => !id.startsWith('models/')));
  const recs = s.upstreamSince(m);
  assert.ok(recs.length >= 1);
  assert.ok(recs.every((rec) => rec.method === 'GET' && rec.path === '/v1beta/models'), 'models.list upstream');
});

test('models.list follows nextPageToken across upstream pages', async () => {
  const first = MODELS.slice(0, 2).map((x) => ({name: `models/${x.id}`, displayName: x.displayName}));
  s.fake.script({match: {pathIncludes: '/models', method: 'GET'}, body: {
    models: first, nextPageToken: Buffer.from('offset:2').toString('base64url')}});
  const m = s.mark();
  const page = await s.client().models.list();
  const ids = page.data.map((x) => x.id);
  assert.deepEqual(ids.slice().sort(), MODELS.map((x) => x.id).sort(), 'every model once');
  const recs = s.upstreamSince(m);
  assert.equal(recs.length, 2);
  assert.equal(recs[0].query.pageToken, undefined);
  assert.equal(recs[1].query.pageToken, Buffer.from('offset:2').toString('base64url'));
});

test('models.retrieve: one model; an unknown one is a NotFoundError', async () => {
  const m = s.mark();
  const one = await s.client().models.retrieve('gemini-2.5-pro');
  assert.deepEqual({id: one.id, object: one.object, owned_by: one.owned_by},
                   {id: 'gemini-2.5-pro', object: 'model', owned_by: 'google'});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.method, 'GET');
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-pro');
  const err = await sdkRejects(() => s.client().models.retrieve('gemini-9-ultra'),
                               OpenAI.NotFoundError, 404);
  assertOpenAIErrorShape(err.error);
  assert.match(err.message, /gemini-9-ultra/);
});

test('models on all three route prefixes', async () => {
  for (const prefix of PREFIXES) {
    const page = await s.client({prefix}).models.list();
    assert.ok(page.data.some((x) => x.id === 'gemini-2.5-flash'), prefix);
    const one = await s.client({prefix}).models.retrieve('text-embedding-004');
    assert.equal(one.id, 'text-embedding-004', prefix);
  }
});
