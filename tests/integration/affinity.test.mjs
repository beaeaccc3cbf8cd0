// Resource affinity: every call that names a resource the gateway saw created (a cached content,
// an interaction, a batch, a tuned model, an operation and the file it generated) goes to the
// pool key that created it, with 3 keys in the pool; the owning key cooling or disabled gives a
// clear 503/409, never another key; a resource of another client token is 404; the map survives
// a restart and is found by a second gateway of a group. The stand-in upstream enforces
// ownership (another key → 403), so any call on the wrong key fails these tests.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {startGroup} from '../support/group.mjs';
import {call, generate, genBody, poolKey, clientToken} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')],
                              tokens: [clientToken('a'), clientToken('b')], ...opts});
  t.after(() => s.close());
  return s;
}

/** The pool key that made the fake's last call. */
const lastKey = () => fake.requests().at(-1).key;
/** The keys of the fake's calls since `n` calls were recorded. */
const keysSince = (n) => fake.requests().slice(n).map((r) => r.key);

async function createCache(s, token = s.token, extra = {}) {
  const r = await call(s.gw, '/v1beta/cachedContents', {token, body: {
    model: 'models/gemini-2.5-flash', contents: [genBody('a long document').contents[0]], ttl: '600s',
    ...extra}});
  assert.equal(r.status, 200, r.text);
  return {name: r.json.name, key: lastKey()};
}

test('a cached content: every generation citing it, and get/patch/delete, go to its key', async (t) => {
  const s = await stack(t);
  const cache = await createCache(s);
  assert.match(cache.name, /^cachedContents\//);
  const before = fake.requests().length;
  for (let i = 0; i < 12; i++) {
    const r = await generate(s.gw, `with cache ${i}`, {token: s.token, body: genBody(`q ${i}`, {cachedContent: cache.name})});
    assert.equal(r.status, 200, r.text);
  }
  const got = await call(s.gw, `/v1beta/${cache.name}`, {token: s.token});
  assert.equal(got.status, 200, got.text);
  const patched = await call(s.gw, `/v1beta/${cache.name}`, {token: s.token, method: 'PATCH', body: {ttl: '900s'}});
  assert.equal(patched.status, 200, patched.text);
  const deleted = await call(s.gw, `/v1beta/${cache.name}`, {token: s.token, method: 'DELETE'});
  assert.equal(deleted.status, 200, deleted.text);
  const keys = keysSince(before);
  assert.equal(keys.length, 15);
  assert.deepEqual([...new Set(keys)], [cache.key], 'only the owning key was called');
  // Unpinned calls still rotate over the pool.
  const spread = new Set();
  for (let i = 0; i < 6; i++) { await generate(s.gw, `free ${i}`, {token: s.token}); spread.add(lastKey()); }
  assert.ok(spread.size > 1, 'calls naming no resource use the whole pool');
});

test('an interaction and its follow-ups with previous_interaction_id stay on one key', async (t) => {
  const s = await stack(t);
  const first = await call(s.gw, '/v1beta/interactions', {token: s.token, body: {model: 'gemini-2.5-flash', input: 'hello'}});
  assert.equal(first.status, 200, first.text);
  const owner = lastKey();
  let prev = first.json.id;
  for (let i = 0; i < 5; i++) {
    const next = await call(s.gw, '/v1beta/interactions', {token: s.token, body: {
      model: 'gemini-2.5-flash', input: `turn ${i}`, previous_interaction_id: prev}});
    assert.equal(next.status, 200, next.text);
    assert.equal(lastKey(), owner);
    prev = next.json.id;
  }
  const got = await call(s.gw, `/v1beta/interactions/${prev}`, {token: s.token});
  assert.equal(got.status, 200, got.text);
  assert.equal(lastKey(), owner);
});

test('a streamed interaction (stream: true) is recorded from its events and its follow-ups pinned', async (t) => {
  const s = await stack(t);
  const r = await call(s.gw, '/v1beta/interactions', {token: s.token, body: {model: 'gemini-2.5-flash', input: 'hi', stream: true}});
  assert.equal(r.status, 200, r.text);
  const owner = lastKey();
  const id = /"interaction":\{"id":"([^"]+)"/.exec(r.text)[1];
  for (let i = 0; i < 4; i++) {
    const next = await call(s.gw, '/v1beta/interactions', {token: s.token, body: {
      model: 'gemini-2.5-flash', input: `more ${i}`, previous_interaction_id: id}});
    assert.equal(next.status, 200, next.text);
    assert.equal(lastKey(), owner);
  }
});

test('batches, tuned models and long-running operations are recorded and pinned', async (t) => {
  const s = await stack(t);
  const batch = await call(s.gw, '/v1beta/models/gemini-2.5-flash:batchGenerateContent', {token: s.token, body: {
    batch: {display_name: 'b', input_config: {requests: {requests: [{request: genBody('x'), metadata: {key: 'r1'}}]}}}}});
  assert.equal(batch.status, 200, batch.text);
  const batchKey = lastKey();
  for (let i = 0; i < 4; i++) {
    const got = await call(s.gw, `/v1beta/${batch.json.name}`, {token: s.token});
    assert.equal(got.status, 200, got.text);
    assert.equal(lastKey(), batchKey);
  }
  const cancel = await call(s.gw, `/v1beta/${batch.json.name}:cancel`, {token: s.token, body: {}});
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(lastKey(), batchKey);

  const tuning = await call(s.gw, '/v1beta/tunedModels', {token: s.token, body: {baseModel: 'models/gemini-2.5-flash'}});
  assert.equal(tuning.status, 200, tuning.text);
  const tuneKey = lastKey();
  for (let i = 0; i < 3; i++) {
    const op = await call(s.gw, `/v1beta/${tuning.json.name}`, {token: s.token});
    assert.equal(op.status, 200, op.text);
    assert.equal(lastKey(), tuneKey);
    const gen = await call(s.gw, `/v1beta/${tuning.json.metadata.tunedModel}:generateContent`, {token: s.token, body: genBody('hi')});
    assert.equal(gen.status, 200, gen.text);
    assert.equal(lastKey(), tuneKey);
  }

  const video = await call(s.gw, '/v1beta/models/veo-3.0-generate-preview:predictLongRunning', {token: s.token, body: {instances: [{prompt: 'a cat'}]}});
  assert.equal(video.status, 200, video.text);
  const opKey = lastKey();
  const done = await call(s.gw, `/v1beta/${video.json.name}`, {token: s.token});
  assert.equal(done.status, 200, done.text);
  assert.equal(lastKey(), opKey);
  const uri = done.json.response.generateVideoResponse.generatedSamples[0].video.uri;
  const fileName = /(files\/[^:?]+)/.exec(uri)[1];
  // The generated file: download, get, cite it in generation (full URL and short form), delete.
  for (let i = 0; i < 3; i++) {
    const dl = await call(s.gw, `/download/v1beta/${fileName}:download?alt=media`, {token: s.token});
    assert.equal(dl.status, 200, dl.text);
    assert.equal(lastKey(), opKey);
    const meta = await call(s.gw, `/v1beta/${fileName}`, {token: s.token});
    assert.equal(meta.status, 200, meta.text);
    assert.equal(lastKey(), opKey);
    for (const fileUri of [uri.replace(/:download.*$/, ''), fileName]) {
      const gen = await generate(s.gw, 'x', {token: s.token, body: {contents: [{role: 'user', parts: [
        {text: 'describe'}, {fileData: {mimeType: 'video/mp4', fileUri}}]}]}});
      assert.equal(gen.status, 200, gen.text);
      assert.equal(lastKey(), opKey);
    }
  }
  // The token's own list: this file only (the other token sees none), from the owning key.
  const list = await call(s.gw, '/v1beta/files', {token: s.token});
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.files.map((f) => f.name), [fileName]);
  const otherList = await call(s.gw, '/v1beta/files', {token: s.tokens[1]});
  assert.equal(otherList.status, 200, otherList.text);
  assert.deepEqual(otherList.json, {});
  const del = await call(s.gw, `/v1beta/${fileName}`, {token: s.token, method: 'DELETE'});
  assert.equal(del.status, 200, del.text);
  assert.equal(lastKey(), opKey);
  const after = await call(s.gw, '/v1beta/files', {token: s.token});
  assert.deepEqual(after.json, {}, 'a deleted file leaves the list');
});

test("another token's resource is 404 and never reaches the upstream; isolation off lets it through", async (t) => {
  const s = await stack(t);
  const cache = await createCache(s);
  const before = fake.requests().length;
  const theirs = await generate(s.gw, 'x', {token: s.tokens[1], body: genBody('x', {cachedContent: cache.name})});
  assert.equal(theirs.status, 404, theirs.text);
  assert.equal(theirs.json.error.status, 'NOT_FOUND');
  assert.doesNotMatch(theirs.text, /belongs|another client token/);
  const get = await call(s.gw, `/v1beta/${cache.name}`, {token: s.tokens[1]});
  assert.equal(get.status, 404, get.text);
  const del = await call(s.gw, `/v1beta/${cache.name}`, {token: s.tokens[1], method: 'DELETE'});
  assert.equal(del.status, 404, del.text);
  assert.equal(fake.requests().length, before, 'nothing went upstream');

  const open = await stack(t, {settings: {affinity_token_isolation: false}});
  const c2 = await createCache(open);
  const shared = await generate(open.gw, 'x', {token: open.tokens[1], body: genBody('x', {cachedContent: c2.name})});
  assert.equal(shared.status, 200, shared.text);
  assert.equal(lastKey(), c2.key);
});

test('owning key cooling → 503 with Retry-After, disabled → 409; never another key', async (t) => {
  const s = await stack(t);
  const cache = await createCache(s);
  fake.setKeyMode(cache.key, 'quota');
  const before = fake.requests().length;
  const first = await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: cache.name})});
  assert.equal(first.status, 429, first.text);  // the owning key's own quota answer
  const cooling = await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: cache.name})});
  assert.equal(cooling.status, 503, cooling.text);
  assert.ok(Number(cooling.headers.get('retry-after')) >= 1);
  assert.match(cooling.json.error.message, /cooling down/);
  assert.deepEqual([...new Set(keysSince(before))], [cache.key], 'no other key was tried');

  const s2 = await stack(t);
  const c2 = await createCache(s2);
  fake.setKeyMode(c2.key, 'invalid');
  const n2 = fake.requests().length;
  const bad = await generate(s2.gw, 'x', {token: s2.token, body: genBody('x', {cachedContent: c2.name})});
  assert.notEqual(bad.status, 200);
  const disabled = await generate(s2.gw, 'x', {token: s2.token, body: genBody('x', {cachedContent: c2.name})});
  assert.equal(disabled.status, 409, disabled.text);
  assert.equal(disabled.json.error.status, 'FAILED_PRECONDITION');
  assert.match(disabled.json.error.message, /disabled/);
  assert.deepEqual([...new Set(keysSince(n2))], [c2.key], 'no other key was tried');
  fake.setKeyMode(c2.key, null);
});

test("a 403 from the owning key is the client's answer and the key stays in service", async (t) => {
  const s = await stack(t);
  const cache = await createCache(s);
  const other = await createCache(s);
  // The cache disappears upstream behind the gateway's back.
  const gone = await call(fake.url, `/v1beta/${cache.name}`, {token: cache.key, method: 'DELETE'});
  assert.equal(gone.status, 200);
  const r = await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: cache.name})});
  assert.equal(r.status, 403, r.text);
  assert.equal(lastKey(), cache.key);
  const again = await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: other.name})});
  assert.equal(again.status, 200, again.text);
  assert.equal(lastKey(), other.key);
  const keys = await call(s.gw, '/v1beta/models', {token: s.token});
  assert.equal(keys.status, 200);
});

test('two resources of different keys in one call → 409 saying so', async (t) => {
  const s = await stack(t);
  const caches = [];
  for (let i = 0; i < 6 && new Set(caches.map((c) => c.key)).size < 2; i++) caches.push(await createCache(s));
  const a = caches[0], b = caches.find((c) => c.key !== a.key);
  assert.ok(b, 'two caches on different keys');
  const interaction = await call(s.gw, '/v1beta/interactions', {token: s.token, body: {model: 'gemini-2.5-flash', input: 'x'}});
  assert.equal(interaction.status, 200);
  const before = fake.requests().length;
  const r = await generate(s.gw, 'x', {token: s.token, body: {
    cachedContent: a.name, contents: [{role: 'user', parts: [{fileData: {fileUri: `https://generativelanguage.googleapis.com/v1beta/${b.name}`}}]}]}});
  // b is a cache, cited as a file URI: still a resource of another key.
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error.message, /different pool keys/);
  assert.equal(fake.requests().length, before);
});

test('the map survives a restart', async (t) => {
  const s = await stack(t);
  const cache = await createCache(s);
  await s.gw.restart();
  for (let i = 0; i < 4; i++) {
    const r = await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: cache.name})});
    assert.equal(r.status, 200, r.text);
    assert.equal(lastKey(), cache.key);
  }
});

test('a cache past its expireTime is unpinned (the entry expired with it)', async (t) => {
  const s = await stack(t);
  const cache = await createCache(s, s.token, {ttl: '1s'});
  await new Promise((r) => setTimeout(r, 1500));
  const keys = new Set();
  for (let i = 0; i < 6; i++) {
    await generate(s.gw, 'x', {token: s.token, body: genBody('x', {cachedContent: cache.name})});
    keys.add(lastKey());
  }
  assert.ok(keys.size > 1, 'an expired resource pins nothing');
});

test('a second gateway of a group finds a resource the first created', async (t) => {
  const g = await startGroup({n: 2, fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  t.after(() => g.close());
  const [A, B] = g.gws;
  const made = await call(A, '/v1beta/cachedContents', {token: g.token, body: {model: 'models/gemini-2.5-flash', ttl: '600s'}});
  assert.equal(made.status, 200, made.text);
  const owner = lastKey();
  for (let i = 0; i < 4; i++) {
    const r = await generate(B, 'x', {token: g.token, body: genBody('x', {cachedContent: made.json.name})});
    assert.equal(r.status, 200, r.text);
    assert.equal(lastKey(), owner);
  }
});

/** A file the gateway saw created (a generated video of a long-running operation): its name and key. */
async function recordedFile(s, token = s.token) {
  const op = await call(s.gw, '/v1beta/models/veo-3.0-generate-preview:predictLongRunning', {token, body: {instances: [{prompt: 'x'}]}});
  assert.equal(op.status, 200, op.text);
  const done = await call(s.gw, `/v1beta/${op.json.name}`, {token});
  assert.equal(done.status, 200, done.text);
  const uri = done.json.response.generateVideoResponse.generatedSamples[0].video.uri;
  return {name: /(files\/[^:?]+)/.exec(uri)[1], key: lastKey()};
}

test('fileData.fileUri in streamGenerateContent and countTokens, native and through the three fronts, goes to the owning key', async (t) => {
  const s = await stack(t);
  const file = await recordedFile(s);
  const part = {fileData: {mimeType: 'video/mp4', fileUri: `https://generativelanguage.googleapis.com/v1beta/${file.name}`}};
  for (let i = 0; i < 3; i++) {
    const stream = await call(s.gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {token: s.token,
      body: {contents: [{role: 'user', parts: [{text: 'what is in it'}, part]}]}});
    assert.equal(stream.status, 200, stream.text);
    assert.equal(lastKey(), file.key);
    const count = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens', {token: s.token,
      body: {contents: [{role: 'user', parts: [part]}]}});
    assert.equal(count.status, 200, count.text);
    assert.equal(lastKey(), file.key);

    const chat = await call(s.gw, '/v1/chat/completions', {token: s.token, via: 'bearer', body: {
      model: 'gemini-2.5-flash', messages: [{role: 'user', content: [
        {type: 'text', text: 'describe'}, {type: 'file', file: {file_id: file.name}}]}]}});
    assert.equal(chat.status, 200, chat.text);
    assert.equal(lastKey(), file.key);

    const msg = await call(s.gw, '/v1/messages', {token: s.token, via: 'none', headers: {'x-api-key': s.token,
      'anthropic-version': '2023-06-01'}, body: {model: 'claude-sonnet-4', max_tokens: 50, messages: [{role: 'user', content: [
        {type: 'document', source: {type: 'file', file_id: file.name}}, {type: 'text', text: 'summarise'}]}]}});
    assert.equal(msg.status, 200, msg.text);
    assert.equal(lastKey(), file.key);

    const resp = await call(s.gw, '/v1/responses', {token: s.token, via: 'bearer', body: {
      model: 'gemini-2.5-flash', input: [{role: 'user', content: [
        {type: 'input_text', text: 'read this'}, {type: 'input_file', file_id: file.name}]}]}});
    assert.equal(resp.status, 200, resp.text);
    assert.equal(lastKey(), file.key);
  }
  // Another token citing the file through a front: 404 in that front's shape, nothing upstream.
  const before = fake.requests().length;
  const theirs = await call(s.gw, '/v1/chat/completions', {token: s.tokens[1], via: 'bearer', body: {
    model: 'gemini-2.5-flash', messages: [{role: 'user', content: [{type: 'file', file: {file_id: file.name}}]}]}});
  assert.equal(theirs.status, 404, theirs.text);
  assert.equal(typeof theirs.json.error.message, 'string');
  assert.equal(fake.requests().length, before);
});

test("the files list holds the token's files from every key that has them, paged", async (t) => {
  const s = await stack(t);
  const files = [];
  for (let i = 0; i < 5; i++) files.push(await recordedFile(s));
  await recordedFile(s, s.tokens[1]);
  assert.ok(new Set(files.map((f) => f.key)).size > 1, 'the files sit on several keys');
  const seen = [];
  let pageToken = '';
  for (let page = 0; page < 5; page++) {
    const r = await call(s.gw, `/v1beta/files?pageSize=2${pageToken ? `&pageToken=${pageToken}` : ''}`, {token: s.token});
    assert.equal(r.status, 200, r.text);
    seen.push(...r.json.files.map((f) => f.name));
    if (!r.json.nextPageToken) break;
    pageToken = r.json.nextPageToken;
  }
  assert.deepEqual([...seen].sort(), files.map((f) => f.name).sort(), 'each of the token\'s files once, no other');
});
