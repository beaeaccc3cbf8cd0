// Token isolation under attack: a client token naming another token's file or cached content in
// every spelling Google reads as the same name (escaped JSON keys, percent-escapes, dot segments,
// another host, blanks, ":download", "?alt=media") is refused with 404 and nothing reaches the
// upstream; the owner's own odd spellings still go to the owning key.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, genBody, poolKey, clientToken} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t) {
  const s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')],
                              tokens: [clientToken('a'), clientToken('b')]});
  t.after(() => s.close());
  return s;
}

const lastKey = () => fake.requests().at(-1).key;

/** A request with its target sent exactly as written (fetch would resolve dot segments). */
function rawCall(gw, method, target, token) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: gw.port, method, path: target,
                              headers: {'x-goog-api-key': token}}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({status: res.statusCode, text}));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A file token `token` made (a generated video): its id (after "files/") and key. */
async function recordedFile(s, token = s.token) {
  const op = await call(s.gw, '/v1beta/models/veo-3.0-generate-preview:predictLongRunning', {token, body: {instances: [{prompt: 'x'}]}});
  assert.equal(op.status, 200, op.text);
  const done = await call(s.gw, `/v1beta/${op.json.name}`, {token});
  assert.equal(done.status, 200, done.text);
  const uri = done.json.response.generateVideoResponse.generatedSamples[0].video.uri;
  return {id: /files\/([^:?]+)/.exec(uri)[1], key: lastKey()};
}

/** The spellings of files/<id> that Google resolves to that file. */
function spellings(id) {
  const escaped = id.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return [
    `files/${escaped}`,
    `files/x/../${id}`,
    `files/./${id}`,
    ` files/${id} `,
    `files/${id}:download`,
    `files/${id}?alt=media`,
    `https://evil.example/v1beta/files/${id}`,
    `HTTPS://generativelanguage.googleapis.com/v1beta/files/${escaped}:download?alt=media`,
    `http://h/upload/../v1beta/files/${id}`,
  ];
}

const filePart = (uri) => ({contents: [{role: 'user', parts: [{text: 'what'}, {fileData: {mimeType: 'video/mp4', fileUri: uri}}]}]});

test("another token's file in every spelling of fileData.fileUri is 404, nothing upstream", async (t) => {
  const s = await stack(t);
  const file = await recordedFile(s);
  const before = fake.requests().length;
  for (const uri of spellings(file.id)) {
    const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent', {token: s.tokens[1], body: filePart(uri)});
    assert.equal(r.status, 404, `${uri}: ${r.text}`);
    assert.equal(r.json.error.status, 'NOT_FOUND');
  }
  assert.equal(fake.requests().length, before, 'nothing went upstream');
  // The owner's own odd spellings go to the owning key.
  for (const uri of spellings(file.id).slice(0, 3)) {
    const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens', {token: s.token, body: filePart(uri)});
    assert.equal(r.status, 200, `${uri}: ${r.text}`);
    assert.equal(lastKey(), file.key);
  }
});

test('a JSON key written with escapes (file\\u0055ri, cached\\u0043ontent) is the same key: refused too', async (t) => {
  const s = await stack(t);
  const file = await recordedFile(s);
  const cache = await call(s.gw, '/v1beta/cachedContents', {token: s.token, body: {
    model: 'models/gemini-2.5-flash', contents: [genBody('a long document').contents[0]], ttl: '600s'}});
  assert.equal(cache.status, 200, cache.text);
  const before = fake.requests().length;
  const bodies = [
    `{"contents":[{"role":"user","parts":[{"fileData":{"mimeType":"video/mp4","file\\u0055ri":"files/${file.id}"}}]}]}`,
    `{"contents":[{"role":"user","parts":[{"file_data":{"mime_type":"video/mp4","file\\u005furi":"files/${file.id}"}}]}]}`,
    `{"cached\\u0043ontent":"${cache.json.name}","contents":[{"role":"user","parts":[{"text":"q"}]}]}`,
  ];
  for (const body of bodies) {
    const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent', {token: s.tokens[1], body,
      headers: {'content-type': 'application/json'}});
    assert.equal(r.status, 404, `${body}: ${r.text}`);
  }
  assert.equal(fake.requests().length, before, 'nothing went upstream');
});

test("another token's file in a path spelled with escapes or dot segments is 404, nothing upstream", async (t) => {
  const s = await stack(t);
  const file = await recordedFile(s);
  const escaped = file.id.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`);
  const before = fake.requests().length;
  for (const path of [`/v1beta/files/${escaped}`, `/v1beta/x/../files/${file.id}`, `/v1beta/./files//${file.id}`,
                      `/download/v1beta/files/${escaped}:download?alt=media`]) {
    for (const method of ['GET', 'DELETE']) {
      const r = await rawCall(s.gw, method, path, s.tokens[1]);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
    }
  }
  assert.equal(fake.requests().length, before, 'nothing went upstream');
});

test("the batches and tuned-models lists hold the token's own, from every key, never another token's", async (t) => {
  const s = await stack(t);
  const mine = {batches: [], tunedModels: []};
  const theirs = {batches: [], tunedModels: []};
  for (const [token, into] of [[s.tokens[0], mine], [s.tokens[1], theirs]]) {
    for (let i = 0; i < 4; i++) {
      const b = await call(s.gw, '/v1beta/models/gemini-2.5-flash:batchGenerateContent', {token, body: {
        batch: {display_name: `b${i}`, input_config: {requests: {requests: [{request: genBody('x'), metadata: {key: 'r'}}]}}}}});
      assert.equal(b.status, 200, b.text);
      into.batches.push(b.json.name);
      const tm = await call(s.gw, '/v1beta/tunedModels', {token, body: {baseModel: 'models/gemini-2.5-flash'}});
      assert.equal(tm.status, 200, tm.text);
      into.tunedModels.push(tm.json.metadata.tunedModel);
    }
  }
  for (const [token, own, other] of [[s.tokens[0], mine, theirs], [s.tokens[1], theirs, mine]]) {
    for (const [path, field, kind] of [['/v1beta/batches', 'operations', 'batches'], ['/v1beta/tunedModels', 'tunedModels', 'tunedModels']]) {
      const seen = [];
      let pageToken = '';
      for (let page = 0; page < 5; page++) {
        const r = await call(s.gw, `${path}?pageSize=3${pageToken ? `&pageToken=${pageToken}` : ''}`, {token});
        assert.equal(r.status, 200, r.text);
        seen.push(...(r.json[field] || []).map((x) => x.name));
        if (!r.json.nextPageToken) break;
        pageToken = r.json.nextPageToken;
      }
      assert.deepEqual([...seen].sort(), [...own[kind]].sort(), `${path}: the token's own, each once`);
      for (const n of other[kind]) assert.ok(!seen.includes(n), `${path}: never another token's ${n}`);
    }
  }
});

test('a body citing 200 000 distinct files is 400 (at most 1000 per call), nothing upstream; 1000 pass', async (t) => {
  const s = await stack(t);
  const body = (n) => ({contents: [{role: 'user', parts: Array.from({length: n}, (_, i) => (
    {fileData: {mimeType: 'text/plain', fileUri: `files/f${i}`}}))}]});
  const before = fake.requests().length;
  const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens', {token: s.token, body: body(200000), timeoutMs: 60000});
  assert.equal(r.status, 400, r.text.slice(0, 300));
  assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  assert.match(r.json.error.message, /more than 1000/);
  assert.equal(fake.requests().length, before, 'nothing went upstream');
  const fine = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens', {token: s.token, body: body(1000)});
  assert.notEqual(fine.status, 400, 'exactly 1000 names are allowed (the stand-in upstream decides)');
  assert.equal(fake.requests().length, before + 1);
});
