// End to end with @google/genai and 3 pool keys: server-side resources made through the gateway
// stay on the key that made them — a cache (caches.create, then generation with it, get, update,
// list, delete), an interaction and its follow-ups with previous_interaction_id (the SDK's
// interactions client), and a generated video's file (models.generateVideos, then files.get /
// list / download / delete and generation citing it). The stand-in upstream answers 403 for any
// resource used with another key, as Google does.

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
  s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')],
                        tokens: [clientToken('a'), clientToken('b')]});
});
after(async () => {
  await s?.close();
  await fake?.close();
});

function client(token = s.token) {
  return new GoogleGenAI({apiKey: token, httpOptions: {baseUrl: s.gw.url}});
}
const lastKey = () => fake.requests().at(-1).key;
const keysSince = (n) => new Set(fake.requests().slice(n).map((r) => r.key));

test('caches.create, then 10 generations with the cache, get, update, list, delete: all on its key', async () => {
  const ai = client();
  const cache = await ai.caches.create({model: 'gemini-2.5-flash', config: {
    contents: [{role: 'user', parts: [{text: 'a long shared context'}]}], ttl: '600s', displayName: 'ctx'}});
  assert.match(cache.name, /^cachedContents\//);
  const owner = lastKey();
  const n = fake.requests().length;
  for (let i = 0; i < 10; i++) {
    const r = await ai.models.generateContent({model: 'gemini-2.5-flash', contents: `question ${i}`,
                                               config: {cachedContent: cache.name}});
    assert.match(r.text, /^echo: question/);
  }
  const got = await ai.caches.get({name: cache.name});
  assert.equal(got.name, cache.name);
  const updated = await ai.caches.update({name: cache.name, config: {ttl: '1200s'}});
  assert.equal(updated.name, cache.name);
  const listed = [];
  for await (const c of await ai.caches.list()) listed.push(c.name);
  assert.deepEqual(listed, [cache.name]);
  await ai.caches.delete({name: cache.name});
  assert.deepEqual([...keysSince(n)], [owner], 'every call on the owning key');
  const others = [];
  for await (const c of await client(s.tokens[1]).caches.list()) others.push(c.name);
  assert.deepEqual(others, [], "another token's list is empty");
});

test('an interaction and follow-ups with previous_interaction_id (SDK interactions client)', async () => {
  const ai = client();
  const first = await ai.interactions.create({model: 'gemini-2.5-flash', input: 'hello'});
  assert.ok(first.id);
  const owner = lastKey();
  const n = fake.requests().length;
  let prev = first.id;
  for (let i = 0; i < 5; i++) {
    const next = await ai.interactions.create({model: 'gemini-2.5-flash', input: `turn ${i}`,
                                               previous_interaction_id: prev});
    assert.ok(next.id);
    prev = next.id;
  }
  const got = await ai.interactions.get(prev);
  assert.equal(got.id, prev);
  assert.deepEqual([...keysSince(n)], [owner]);
  await assert.rejects(client(s.tokens[1]).interactions.get(prev), (e) => e.status === 404,
                       "another token's interaction does not exist for it");
});

test('a generated video file: files.get, list, download, delete and generation citing it, on its key', async () => {
  const ai = client();
  let op = await ai.models.generateVideos({model: 'veo-3.0-generate-preview', prompt: 'a cat'});
  const owner = lastKey();
  op = await ai.operations.getVideosOperation({operation: op});
  assert.equal(op.done, true);
  const uri = op.response.generatedVideos[0].video.uri;
  const name = /(files\/[^:?]+)/.exec(uri)[1];
  const n = fake.requests().length;
  const meta = await ai.files.get({name});
  assert.equal(meta.name, name);
  const listed = [];
  for await (const f of await ai.files.list()) listed.push(f.name);
  assert.deepEqual(listed, [name]);
  for (let i = 0; i < 5; i++) {
    const r = await ai.models.generateContent({model: 'gemini-2.5-flash', contents: [{role: 'user', parts: [
      {text: `what happens ${i}`}, {fileData: {fileUri: meta.uri, mimeType: 'video/mp4'}}]}]});
    assert.match(r.text, /^echo:/);
  }
  const dl = await fetch(`${s.gw.url}/download/v1beta/${name}:download?alt=media`, {headers: {'x-goog-api-key': s.token}});
  assert.equal(dl.status, 200);
  await ai.files.delete({name});
  assert.deepEqual([...keysSince(n)], [owner]);
  const after = [];
  for await (const f of await ai.files.list()) after.push(f.name);
  assert.deepEqual(after, []);
});
