// Client authentication and what reaches the upstream: every way a client may present its
// token, every way it may get it wrong, and proof that the client's credential (and hop-by-hop
// headers) never travel to Google while the pool key does, in x-goog-api-key only.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, answerText, poolKey, clientToken, geminiErrorProblem, rawRequest,
        genBody} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

/** Asserts the upstream request carried the pool key in x-goog-api-key and nothing of the client's. */
function assertUpstreamCredentials(rec, poolKeys, clientSecret) {
  assert.ok(poolKeys.includes(rec.headers['x-goog-api-key']),
            `upstream got a pool key in x-goog-api-key (got ${rec.headers['x-goog-api-key']})`);
  assert.equal(rec.query.key, undefined, 'no ?key= reaches the upstream');
  assert.equal(rec.headers.authorization, undefined, 'no Authorization header reaches the upstream');
  const everything = JSON.stringify(rec);
  assert.ok(!everything.includes(clientSecret), 'the client token appears nowhere upstream');
}

test('GET /healthz answers 200 {"status":"ok"} without credentials', async (t) => {
  const s = await stack(t);
  const r = await call(s.gw, '/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {status: 'ok'});
  assert.equal(s.fake.stats().total, 0);
});

for (const via of ['query', 'header', 'bearer']) {
  test(`token via ${via}: accepted, pool key forwarded, client token not`, async (t) => {
    const s = await stack(t);
    const r = await generate(s.gw, `hello via ${via}`, {token: s.token, via});
    assert.equal(r.status, 200, r.text);
    assert.equal(answerText(r.json), `echo: hello via ${via}`);
    const recs = s.fake.requests();
    assert.equal(recs.length, 1, 'exactly one upstream call');
    assert.equal(recs[0].path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assertUpstreamCredentials(recs[0], s.keys, s.token);
  });
}

test('missing and wrong tokens get 401 UNAUTHENTICATED and never reach the upstream', async (t) => {
  const s = await stack(t);
  const wrongs = [
    ['no credential', {}],
    ['wrong query token', {token: clientToken('wrong'), via: 'query'}],
    ['wrong header token', {token: clientToken('wrong'), via: 'header'}],
    ['wrong bearer token', {token: clientToken('wrong'), via: 'bearer'}],
    ['token with an extra character', {token: `${s.token}x`, via: 'header'}],
    ['token missing its last character', {token: s.token.slice(0, -1), via: 'header'}],
    ['token in another case', {token: s.token.toUpperCase(), via: 'header'}],
    ['empty bearer', {headers: {authorization: 'Bearer '}}],
    ['basic auth', {headers: {authorization: `Basic ${Buffer.from(`u:${s.token}`).toString('base64')}`}}],
  ];
  for (const [what, o] of wrongs) {
    const r = await generate(s.gw, 'x', o);
    assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.equal(geminiErrorProblem(r.json, 401), '', `${what}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.status, 'UNAUTHENTICATED', what);
  }
  for (const path of ['/v1beta/models', '/gemini/v1beta/models', '/gemini/v1/models']) {
    assert.equal((await call(s.gw, path)).status, 401, `${path} without a token`);
  }
  assert.equal(s.fake.stats().total, 0, 'no request reached the upstream');
});

test('a pool key is never accepted as a client token', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const s = await stack(t, {keys});
  for (const via of ['query', 'header', 'bearer']) {
    for (const k of keys) {
      const r = await generate(s.gw, 'x', {token: k, via});
      assert.equal(r.status, 401, `pool key via ${via}`);
      assert.ok(!r.text.includes(k), 'the 401 body does not echo the key');
    }
  }
  assert.equal(s.fake.stats().total, 0);
});

test('ALLOWED_TOKENS may be separated by commas, newlines and spaces', async (t) => {
  const toks = [clientToken('a'), clientToken('b'), clientToken('c'), clientToken('d')];
  const s = await stack(t, {tokens: [toks[0]],
                            env: {ALLOWED_TOKENS: `${toks[0]},${toks[1]}\n${toks[2]} ${toks[3]}`}});
  for (const tok of toks) {
    const r = await generate(s.gw, 'sep', {token: tok});
    assert.equal(r.status, 200, `token ${toks.indexOf(tok)} accepted`);
  }
});

test('/v1beta, /gemini/v1beta and /gemini/v1 pass through with the prefix stripped', async (t) => {
  const s = await stack(t);
  const cases = [['/v1beta', '/v1beta'], ['/gemini/v1beta', '/v1beta'], ['/gemini/v1', '/v1']];
  for (const [prefix, upstreamPrefix] of cases) {
    s.fake.reset();
    const r = await generate(s.gw, `p ${prefix}`, {token: s.token, prefix, via: 'query'});
    assert.equal(r.status, 200, `${prefix}: ${r.text.slice(0, 200)}`);
    assert.equal(answerText(r.json), `echo: p ${prefix}`);
    const [rec] = s.fake.requests();
    assert.equal(rec.path, `${upstreamPrefix}/models/gemini-2.5-flash:generateContent`);
    assertUpstreamCredentials(rec, s.keys, s.token);
  }
});

test('request and response bodies pass through untouched; other query parameters kept', async (t) => {
  const s = await stack(t);
  // Odd formatting, unicode, unknown fields: a transparent proxy forwards these bytes as they are.
  const body = '{ "contents" : [ {"role":"user","parts":[{"text":"h\\u00e9llo ✓ [[thoughts=3]]"}]} ],\n' +
               '  "safetySettings": [{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],' +
               ' "someFutureField": {"x": [1, 2.50, null]} }';
  const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent',
                       {token: s.token, body, headers: {'content-type': 'application/json'}});
  assert.equal(r.status, 200, r.text);
  const [rec] = s.fake.requests();
  assert.equal(rec.body, body, 'upstream received the exact request bytes');
  assert.equal(answerText(r.json), 'echo: héllo ✓');
  assert.equal(r.json.usageMetadata.thoughtsTokenCount, 3);

  s.fake.reset();
  const viaGw = await call(s.gw, '/v1beta/models?pageSize=2', {token: s.token, via: 'query'});
  const direct = await call(s.fake, '/v1beta/models?pageSize=2', {token: s.keys[0]});
  assert.equal(viaGw.status, 200);
  assert.deepEqual(viaGw.json, direct.json, 'models list answer identical to the upstream one');
  const rec2 = s.fake.requests()[0];
  assert.deepEqual(rec2.query, {pageSize: '2'}, 'pageSize forwarded, key dropped');
  const page2 = await call(s.gw, `/v1beta/models?pageSize=2&pageToken=${viaGw.json.nextPageToken}`,
                           {token: s.token});
  assert.equal(page2.status, 200);
  assert.notEqual(page2.json.models[0].name, viaGw.json.models[0].name, 'second page differs');
  const one = await call(s.gw, '/v1beta/models/gemini-2.5-pro', {token: s.token, via: 'bearer'});
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'models/gemini-2.5-pro');
});

test('countTokens, embedContent and batchEmbedContents pass through', async (t) => {
  const s = await stack(t);
  const ct = await call(s.gw, '/v1beta/models/gemini-2.5-flash:countTokens',
                        {token: s.token, body: genBody('12345678')});
  assert.equal(ct.status, 200);
  assert.equal(ct.json.totalTokens, 2);
  const em = await call(s.gw, '/v1beta/models/text-embedding-004:embedContent',
                        {token: s.token, body: {content: {parts: [{text: 'abc'}]}, outputDimensionality: 8}});
  assert.equal(em.status, 200);
  assert.equal(em.json.embedding.values.length, 8);
  const be = await call(s.gw, '/v1beta/models/text-embedding-004:batchEmbedContents', {
    token: s.token,
    body: {requests: ['abc', 'b', 'c'].map((x) => ({model: 'models/text-embedding-004',
                                                  content: {parts: [{text: x}]}}))},
  });
  assert.equal(be.status, 200);
  assert.equal(be.json.embeddings.length, 3);
  assert.deepEqual(be.json.embeddings[0].values.slice(0, 8), em.json.embedding.values);
  assert.deepEqual(s.fake.requests().map((r) => r.action),
                   ['countTokens', 'embedContent', 'batchEmbedContents']);
});

test('hop-by-hop headers are not forwarded; the client credential is replaced', async (t) => {
  const s = await stack(t);
  const body = JSON.stringify(genBody('hop'));
  const req = 'POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\n' +
              `Host: 127.0.0.1:${s.gw.port}\r\n` +
              `x-goog-api-key: ${s.token}\r\n` +
              'Content-Type: application/json\r\n' +
              'Connection: keep-alive, X-Hop-Custom\r\n' +
              'X-Hop-Custom: drop-me\r\n' +
              'Keep-Alive: timeout=5, max=100\r\n' +
              'TE: trailers\r\n' +
              'Trailer: X-Checksum\r\n' +
              'Proxy-Authorization: Basic dXNlcjpwYXNz\r\n' +
              'Proxy-Connection: keep-alive\r\n' +
              `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = await rawRequest(s.gw.port, req, {responses: 1});
  assert.equal(r.responses[0]?.status, 200, r.text.slice(0, 300));
  const [rec] = s.fake.requests();
  for (const h of ['x-hop-custom', 'keep-alive', 'te', 'trailer', 'proxy-authorization',
                   'proxy-connection', 'upgrade']) {
    assert.equal(rec.headers[h], undefined, `${h} must not be forwarded`);
  }
  assert.ok(!/x-hop-custom/i.test(rec.headers.connection || ''), 'Connection tokens not forwarded');
  assertUpstreamCredentials(rec, s.keys, s.token);
});
