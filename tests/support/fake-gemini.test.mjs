// Self-test of the stand-in Gemini upstream: the integration suites trust its counts, error
// shapes and stream timing, so each behaviour they rely on is checked here first.
// Run: node --test tests/support/fake-gemini.test.mjs   (CTest: support.fake_gemini)

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {startFakeGemini} from './fake-gemini.mjs';
import {call, generate, streamGenerate, genBody, answerText, poolKey, geminiErrorProblem,
        sseEvents, timedBody, rawRequest, sleep} from './gateway.mjs';

let fake;
const VALID = poolKey('Valid');
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });
beforeEach(() => fake.reset());

test('models list pages through the whole catalogue on v1beta and v1', async () => {
  for (const v of ['v1beta', 'v1']) {
    const names = [];
    let token = '';
    for (let page = 0; page < 10; page++) {
      const r = await call(fake, `/${v}/models?pageSize=2${token ? `&pageToken=${token}` : ''}`,
                           {token: VALID});
      assert.equal(r.status, 200);
      assert.ok(r.json.models.length <= 2);
      names.push(...r.json.models.map((m) => m.name));
      if (!r.json.nextPageToken) break;
      token = r.json.nextPageToken;
    }
    for (const m of ['gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.5-pro',
                     'text-embedding-004', 'gemini-embedding-001']) {
      assert.ok(names.includes(`models/${m}`), `${v} lists ${m}`);
    }
    assert.equal(new Set(names).size, names.length, 'no model twice');
  }
  const one = await call(fake, '/v1beta/models/gemini-2.5-pro', {token: VALID});
  assert.equal(one.json.displayName, 'Gemini 2.5 Pro');
  assert.ok(one.json.supportedGenerationMethods.includes('generateContent'));
  assert.ok(one.json.inputTokenLimit > 0 && one.json.outputTokenLimit > 0);
});

test('generateContent echoes the last user text with usage, modelVersion, responseId', async () => {
  const r = await generate(fake, 'hello there [[thoughts=7]]', {token: VALID});
  assert.equal(r.status, 200);
  assert.equal(answerText(r.json), 'echo: hello there');
  const c = r.json.candidates[0];
  assert.equal(c.finishReason, 'STOP');
  assert.equal(c.content.role, 'model');
  const u = r.json.usageMetadata;
  assert.ok(u.promptTokenCount > 0 && u.candidatesTokenCount > 0);
  assert.equal(u.thoughtsTokenCount, 7);
  assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + 7);
  assert.equal(r.json.modelVersion, 'gemini-2.5-flash');
  assert.ok(r.json.responseId);
  assert.equal(r.headers.get('content-encoding'), 'gzip', 'fetch asked for gzip and got it');
  const q = await generate(fake, 'via query', {token: VALID, via: 'query'});
  assert.equal(q.status, 200);
  const recs = fake.requests();
  assert.equal(recs.at(-1).keySource, 'query');
  assert.equal(recs.at(-2).keySource, 'header');
  assert.equal(recs.at(-2).headers['x-goog-api-key'], VALID);
  assert.deepEqual(JSON.parse(recs.at(-2).body), genBody('hello there [[thoughts=7]]'));
  assert.deepEqual(fake.stats().calls, {[VALID]: 2});
});

test('key modes answer with Google-shaped errors', async () => {
  const cases = [
    ['Invalid', 400, 'INVALID_ARGUMENT', (e) => e.details.some((d) => d.reason === 'API_KEY_INVALID')],
    ['Denied', 403, 'PERMISSION_DENIED', (e, k) => e.message.includes(k) &&
        e.details.some((d) => d.reason === 'CONSUMER_SUSPENDED')],
    ['Unauth', 401, 'UNAUTHENTICATED', () => true],
    ['Quota', 429, 'RESOURCE_EXHAUSTED', (e) =>
        e.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo' &&
                              d.retryDelay === '30s') &&
        e.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure')],
    ['Overload', 503, 'UNAVAILABLE', (e) => /overloaded/.test(e.message)],
    ['Error500', 500, 'INTERNAL', () => true],
  ];
  for (const [tag, code, status, check] of cases) {
    const key = poolKey(tag);
    const r = await generate(fake, 'x', {token: key});
    assert.equal(r.status, code, tag);
    assert.equal(geminiErrorProblem(r.json, code), '', tag);
    assert.equal(r.json.error.status, status, tag);
    assert.ok(check(r.json.error, key), `${tag} details`);
  }
  const none = await generate(fake, 'x');
  assert.equal(none.status, 403);
  const bearer = await generate(fake, 'x', {token: 'ya29.token', via: 'bearer'});
  assert.equal(bearer.status, 401);
  // Quota-like modes only hit model calls; listing models with such a key works.
  assert.equal((await call(fake, '/v1beta/models', {token: poolKey('Quota')})).status, 200);
  // Errors of a non-SSE stream come wrapped in an array, as Google sends them.
  const res = await streamGenerate(fake, 'x', {token: poolKey('Invalid'), sse: false});
  assert.equal(res.status, 400);
  const arr = JSON.parse(await res.text());
  assert.ok(Array.isArray(arr) && arr[0].error.code === 400);
});

test('reset, slow and hang modes', async () => {
  await assert.rejects(generate(fake, 'x', {token: poolKey('Reset')}));
  assert.equal(fake.stats().resets, 1);
  assert.equal(fake.stats().aborted, 0, 'a reset by the fake is not a client abort');
  fake.setKeyMode(poolKey('SlowA'), 'slow');
  const slowKey = poolKey('Slow');
  fake.setKeyMode(slowKey, 'slow', {delayMs: 300});
  const t0 = Date.now();
  assert.equal((await generate(fake, 'x', {token: slowKey})).status, 200);
  assert.ok(Date.now() - t0 >= 280, 'slow key waited its delay');
  const hang = poolKey('Hang');
  await assert.rejects(generate(fake, 'x', {token: hang, timeoutMs: 300}));
  const s = await fake.waitFor((st) => st.aborted === 1 && st.active === 0);
  assert.equal(s.abortedEvents[0].key, hang);
});

test('setAllMode gives every key one behaviour (an upstream-wide 503) until lifted', async () => {
  fake.setAllMode('overload');
  for (const k of [VALID, poolKey('Other')]) {
    const r = await generate(fake, 'x', {token: k});
    assert.equal(r.status, 503);
    assert.equal(r.json.error.status, 'UNAVAILABLE');
  }
  const res = await fetch(`${fake.url}/__control/all`, {method: 'POST', body: JSON.stringify({mode: null})});
  assert.equal(res.status, 200);
  assert.equal((await generate(fake, 'x', {token: VALID})).status, 200);
  fake.setAllMode('overload');
  fake.reset();
  assert.equal((await generate(fake, 'x', {token: VALID})).status, 200, 'reset lifts it too');
});

test('SSE stream arrives incrementally with CRLF framing', async () => {
  const res = await streamGenerate(fake, 'count [[chunks=5 interval=100]]', {token: VALID});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const out = await sseEvents(res);
  assert.equal(out.events.length, 5);
  assert.ok(out.complete);
  assert.ok(out.events.at(-1).at - out.events[0].at >= 350, 'events spread over time');
  assert.match(out.raw, /^data: \{.*\}\r\n\r\ndata: /);
  const text = out.events.map((e) => e.json.candidates[0].content.parts[0].text).join('');
  assert.equal(text, 'echo: count #1 #2 #3 #4');
  assert.equal(out.events.at(-1).json.candidates[0].finishReason, 'STOP');
  assert.equal(new Set(out.events.map((e) => e.json.responseId)).size, 1);
});

test('JSON-array stream arrives incrementally and parses as an array', async () => {
  const res = await streamGenerate(fake, 'arr [[chunks=4 interval=100]]', {token: VALID, sse: false});
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await timedBody(res);
  const arr = JSON.parse(body.text);
  assert.equal(arr.length, 4);
  assert.ok(body.chunks.length >= 4, `got ${body.chunks.length} reads`);
  assert.ok(body.chunks.at(-1).at - body.chunks[0].at >= 250);
  assert.match(body.text, /^\[\{/);
  assert.match(body.text, /\}\r\n,\{/);
});

test('stream directives: reset_after, error_after, hang_after, block, status, call, json', async () => {
  let out = await sseEvents(await streamGenerate(fake, '[[chunks=10 interval=5 reset_after=3]]', {token: VALID}));
  assert.equal(out.events.length, 3);
  assert.equal(out.complete, false, 'a reset breaks the stream');
  out = await sseEvents(await streamGenerate(fake, '[[chunks=10 interval=5 error_after=2]]', {token: VALID}));
  assert.equal(out.events.length, 3);
  assert.equal(out.events[2].json.error.code, 500);
  assert.ok(out.complete);
  const ac = new AbortController();
  const res = await streamGenerate(fake, '[[chunks=10 interval=5 hang_after=2]]', {token: VALID, signal: ac.signal});
  const partial = sseEvents(res);
  await sleep(300);
  ac.abort();
  assert.equal((await partial).events.length, 2);
  await fake.waitFor((s) => s.aborted === 1 && s.abortedEvents[0].chunksSent === 2);
  const blocked = await generate(fake, 'bad [[block]]', {token: VALID});
  assert.equal(blocked.json.promptFeedback.blockReason, 'SAFETY');
  assert.equal(blocked.json.candidates, undefined);
  const st = await generate(fake, '[[status=503]]', {token: VALID});
  assert.equal(st.status, 503);
  assert.equal(st.json.error.status, 'UNAVAILABLE');
  const fc = await generate(fake, 'weather [[call=get_weather]]', {token: VALID});
  assert.deepEqual(fc.json.candidates[0].content.parts[0].functionCall, {name: 'get_weather', args: {echo: 'weather'}});
  const js = await call(fake, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {
    token: VALID, raw: true,
    body: genBody('j [[chunks=3]]', {generationConfig: {responseMimeType: 'application/json'}})});
  const ev = (await sseEvents(js)).events.map((e) => e.json.candidates[0].content.parts[0].text).join('');
  assert.deepEqual(JSON.parse(ev), {echo: 'j'});
  const t0 = Date.now();
  await generate(fake, '[[delay=200]]', {token: VALID});
  assert.ok(Date.now() - t0 >= 190);
});

test('client errors: unknown model, bad JSON, empty contents, unknown path', async () => {
  const nf = await generate(fake, 'x', {token: VALID, model: 'gemini-9-ultra'});
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.status, 'NOT_FOUND');
  const bad = await call(fake, '/v1beta/models/gemini-2.5-flash:generateContent',
                         {token: VALID, body: '{"contents": [', headers: {'content-type': 'application/json'}});
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.status, 'INVALID_ARGUMENT');
  assert.match(bad.json.error.message, /Invalid JSON payload/);
  const empty = await call(fake, '/v1beta/models/gemini-2.5-flash:generateContent', {token: VALID, body: {}});
  assert.equal(empty.status, 400);
  const html = await call(fake, '/v1beta/nothing', {token: VALID});
  assert.equal(html.status, 404);
  assert.match(html.headers.get('content-type'), /text\/html/);
});

test('countTokens, embedContent and batchEmbedContents', async () => {
  const ct = await call(fake, '/v1beta/models/gemini-2.5-flash:countTokens', {token: VALID, body: genBody('12345678')});
  assert.equal(ct.json.totalTokens, 2);
  const embed = (model, body) => call(fake, `/v1beta/models/${model}:embedContent`, {token: VALID, body});
  const a = await embed('text-embedding-004', {content: {parts: [{text: 'abc'}]}});
  assert.equal(a.json.embedding.values.length, 768);
  const b = await embed('text-embedding-004', {content: {parts: [{text: 'abc'}]}, outputDimensionality: 16});
  assert.deepEqual(b.json.embedding.values, a.json.embedding.values.slice(0, 16), 'deterministic');
  assert.equal((await embed('gemini-embedding-001', {content: {parts: [{text: 'abc'}]}})).json.embedding.values.length, 3072);
  assert.equal((await embed('gemini-2.5-flash', {content: {parts: [{text: 'abc'}]}})).status, 404);
  const reqs = (n, model = 'models/text-embedding-004') =>
    Array.from({length: n}, (_, i) => ({model, content: {parts: [{text: `t${i}`}]}}));
  const batch = (requests) => call(fake, '/v1beta/models/text-embedding-004:batchEmbedContents',
                                   {token: VALID, body: {requests}});
  const ok = await batch(reqs(100));
  assert.equal(ok.json.embeddings.length, 100);
  assert.deepEqual(ok.json.embeddings[0].values.slice(0, 4),
                   (await embed('text-embedding-004', {content: {parts: [{text: 't0'}]}})).json.embedding.values.slice(0, 4));
  const tooMany = await batch(reqs(101));
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.json.error.message, /at most 100 requests/);
  assert.equal((await batch(reqs(2, 'models/gemini-embedding-001'))).status, 400);
});

test('control API over HTTP: key override, reset, requests, scripts', async () => {
  const key = poolKey('Invalid');
  assert.equal((await generate(fake, 'x', {token: key})).status, 400);
  await call(fake, '/__control/key', {body: {key, mode: 'valid'}});
  assert.equal((await generate(fake, 'x', {token: key})).status, 200);
  await call(fake, '/__control/key', {body: {key, mode: 'quota', retryDelay: 2, models: ['gemini-2.5-pro']}});
  assert.equal((await generate(fake, 'x', {token: key})).status, 200, 'other model unaffected');
  const q = await generate(fake, 'x', {token: key, model: 'gemini-2.5-pro'});
  assert.equal(q.status, 429);
  assert.ok(q.json.error.details.some((d) => d.retryDelay === '2s'));
  await call(fake, '/__control/key', {body: {key, mode: null}});
  assert.equal((await generate(fake, 'x', {token: key})).status, 400, 'back to its name');
  const stats = (await call(fake, '/__stats')).json;
  assert.equal(stats.calls[key], 5);
  assert.deepEqual(stats.callsByModel[key], {'gemini-2.5-flash': 4, 'gemini-2.5-pro': 1});
  const recs = (await call(fake, '/__requests?limit=2')).json;
  assert.equal(recs.length, 2);
  assert.equal(recs[1].model, 'gemini-2.5-flash');
  assert.equal(recs[1].action, 'generateContent');
  await call(fake, '/__control/script', {body: [
    {status: 418, body: {teapot: true}, match: {pathIncludes: ':generateContent'}},
    {sse: [{a: 1}, 'plain', {raw: 'event: x\r\ndata: 2\r\n\r\n'}], match: {pathIncludes: 'chat/completions'}},
  ]});
  assert.equal((await call(fake, '/v1beta/openai/chat/completions', {body: {}})).text,
               'data: {"a":1}\r\n\r\ndata: plain\r\n\r\nevent: x\r\ndata: 2\r\n\r\n');
  const tea = await generate(fake, 'x', {token: VALID});
  assert.equal(tea.status, 418);
  assert.deepEqual(tea.json, {teapot: true});
  assert.equal((await generate(fake, 'x', {token: VALID})).status, 200, 'a script answers once');
  await call(fake, '/__reset', {method: 'POST'});
  assert.deepEqual((await call(fake, '/__stats')).json.calls, {});
});

test('a client disconnect mid-stream is counted as aborted within a few ms', async () => {
  const ac = new AbortController();
  const res = await streamGenerate(fake, '[[chunks=100 interval=50]]', {token: VALID, signal: ac.signal});
  const out = await sseEvents(res, {stopAfter: 3});
  assert.equal(out.events.length, 3);
  const closedAt = Date.now();
  ac.abort();
  const s = await fake.waitFor((st) => st.aborted === 1 && st.active === 0, 1000);
  assert.ok(s.abortedEvents[0].at - closedAt < 500);
  assert.ok(s.abortedEvents[0].chunksSent >= 3 && s.abortedEvents[0].chunksSent < 100);
});

test('keep-alive and raw requests work against the fake', async () => {
  const body = JSON.stringify(genBody('raw'));
  const req = `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\n` +
              `x-goog-api-key: ${VALID}\r\ncontent-type: application/json\r\n` +
              `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = await rawRequest(fake.port, req + req, {responses: 2});
  assert.equal(r.responses.length, 2);
  assert.equal(answerText(r.responses[1].json), 'echo: raw');
});

test('standalone mode listens on --port and stops on SIGTERM', async () => {
  const file = fileURLToPath(new URL('./fake-gemini.mjs', import.meta.url));
  const p = spawn(process.execPath, [file, '--port', '0'], {stdio: ['ignore', 'ignore', 'pipe']});
  let err = '';
  const url = await new Promise((resolve, reject) => {
    p.stderr.on('data', (c) => {
      err += c;
      const m = err.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    p.on('exit', () => reject(new Error(err)));
  });
  assert.equal((await call(url, '/__health')).status, 200);
  p.kill('SIGTERM');
  const code = await new Promise((r) => p.on('exit', r));
  assert.equal(code, 0);
});

test('resources belong to the key that made them: another key gets 403 on use, get and delete', async () => {
  const other = poolKey('Valid');
  const made = await call(fake, '/__control/resource', {body: {kind: 'files', key: VALID}});
  assert.equal(made.status, 200);
  assert.match(made.json.name, /^files\//);
  const mine = await call(fake, `/v1beta/${made.json.name}`, {token: VALID});
  assert.equal(mine.status, 200, mine.text);
  for (const [method, path] of [['GET', `/v1beta/${made.json.name}`], ['DELETE', `/v1beta/${made.json.name}`]]) {
    const r = await call(fake, path, {token: other, method});
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.json.error.status, 'PERMISSION_DENIED');
  }
  const part = {fileData: {fileUri: `https://generativelanguage.googleapis.com/v1beta/${made.json.name}`}};
  const use = await generate(fake, 'x', {token: other, body: {contents: [{role: 'user', parts: [part]}]}});
  assert.equal(use.status, 403);
  const ok = await generate(fake, 'x', {token: VALID, body: {contents: [{role: 'user', parts: [{text: 'x'}, part]}]}});
  assert.equal(ok.status, 200, ok.text);
  const unknown = await generate(fake, 'x', {token: VALID, body: {contents: [{role: 'user', parts: [
    {fileData: {fileUri: 'files/never-made'}}]}]}});
  assert.equal(unknown.status, 403, 'a file that does not exist is 403 too, as Google answers');
  assert.deepEqual((await call(fake, '/v1beta/files', {token: other})).json, {});
  assert.equal((await call(fake, '/v1beta/files', {token: VALID})).json.files.length, 1);
});

test('cached contents: create with ttl, use, patch, list and delete on the owning key only', async () => {
  const other = poolKey('Valid');
  const c = await call(fake, '/v1beta/cachedContents', {token: VALID, body: {model: 'models/gemini-2.5-flash', ttl: '60s'}});
  assert.equal(c.status, 200, c.text);
  assert.ok(Date.parse(c.json.expireTime) > Date.now());
  assert.equal((await generate(fake, 'x', {token: VALID, body: genBody('x', {cachedContent: c.json.name})})).status, 200);
  assert.equal((await generate(fake, 'x', {token: other, body: genBody('x', {cachedContent: c.json.name})})).status, 403);
  const p = await call(fake, `/v1beta/${c.json.name}`, {token: VALID, method: 'PATCH', body: {ttl: '3600s'}});
  assert.ok(Date.parse(p.json.expireTime) > Date.parse(c.json.expireTime));
  assert.equal((await call(fake, '/v1beta/cachedContents', {token: VALID})).json.cachedContents.length, 1);
  assert.equal((await call(fake, `/v1beta/${c.json.name}`, {token: VALID, method: 'DELETE'})).status, 200);
  assert.equal((await call(fake, `/v1beta/${c.json.name}`, {token: VALID})).status, 403);
});

test('interactions chain with previous_interaction_id on their key; batches, tuning and operations', async () => {
  const other = poolKey('Valid');
  const a = await call(fake, '/v1beta/interactions', {token: VALID, body: {model: 'gemini-2.5-flash', input: 'hi'}});
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.outputs[0].text, 'echo: hi');
  const b = await call(fake, '/v1beta/interactions', {token: VALID, body: {model: 'gemini-2.5-flash', input: 'more', previous_interaction_id: a.json.id}});
  assert.equal(b.json.previous_interaction_id, a.json.id);
  const c = await call(fake, '/v1beta/interactions', {token: other, body: {model: 'gemini-2.5-flash', input: 'x', previous_interaction_id: a.json.id}});
  assert.equal(c.status, 403);
  const batch = await call(fake, '/v1beta/models/gemini-2.5-flash:batchGenerateContent', {token: VALID, body: {batch: {
    input_config: {requests: {requests: [{request: genBody('q'), metadata: {key: 'k'}}]}}}}});
  assert.match(batch.json.name, /^batches\//);
  const done = await call(fake, `/v1beta/${batch.json.name}`, {token: VALID});
  assert.equal(done.json.done, true);
  assert.equal(done.json.response.inlinedResponses.inlinedResponses.length, 1);
  assert.equal((await call(fake, `/v1beta/${batch.json.name}`, {token: other})).status, 403);
  const tune = await call(fake, '/v1beta/tunedModels', {token: VALID, body: {}});
  assert.match(tune.json.metadata.tunedModel, /^tunedModels\//);
  assert.equal((await call(fake, `/v1beta/${tune.json.metadata.tunedModel}:generateContent`, {token: other, body: genBody('x')})).status, 403);
  const video = await call(fake, '/v1beta/models/veo-3.0-generate-preview:predictLongRunning', {token: VALID, body: {instances: [{prompt: 'a wave'}]}});
  assert.equal((await call(fake, '/v1beta/models/veo-3.0-generate-preview:predictLongRunning', {token: VALID, body: {instances: [{}]}})).status, 400);
  const got = await call(fake, `/v1beta/${video.json.name}`, {token: VALID});
  const uri = got.json.response.generateVideoResponse.generatedSamples[0].video.uri;
  const file = /(files\/[^:?]+)/.exec(uri)[1];
  assert.equal((await call(fake, `/download/v1beta/${file}:download?alt=media`, {token: VALID})).status, 200);
  assert.equal((await call(fake, `/download/v1beta/${file}:download?alt=media`, {token: other})).status, 403);
});
