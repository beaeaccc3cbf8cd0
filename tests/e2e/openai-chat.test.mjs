// End to end with the official OpenAI Node SDK (npm `openai`): non-streaming chat completions
// through gemgate's /v1 (and /openai/v1, /hf/v1) routes, translated to Gemini. Every test checks
// both what the SDK returns and what the stand-in Gemini upstream received (path, body, key).
// Tool calls and thought signatures: openai-tools.test.mjs; streams: openai-stream.test.mjs.
// Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {openaiStack, loadOpenAI, sdkRejects, assertOpenAIErrorShape, PREFIXES,
        PNG_1X1} from './openai-support.mjs';
import {stripDirectives} from '../support/fake-gemini-content.mjs';

let OpenAI, s;
before(async () => {
  OpenAI = await loadOpenAI();
  s = await openaiStack();
});
after(async () => { await s?.close(); });
beforeEach(() => s.fake.reset());  // drops unused scripts of a failed test

const MODEL = 'gemini-2.5-flash';
const GEN_PATH = `/v1beta/models/${MODEL}:generateContent`;

test('plain chat: echo reply, OpenAI envelope, usage; upstream gets one user turn', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'Hello from the OpenAI SDK'}]});
  assert.match(r.id, /^chatcmpl-./);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, MODEL);
  assert.ok(Number.isInteger(r.created) && Math.abs(r.created - Date.now() / 1000) < 60,
            `created is unix seconds (${r.created})`);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.finish_reason, 'stop');
  assert.equal(c.message.role, 'assistant');
  assert.equal(c.message.content, 'echo: Hello from the OpenAI SDK');
  assert.ok(!c.message.tool_calls?.length, 'no tool calls');
  // The fake counts 4 characters per token: prompt 25 chars → 7, reply 31 chars → 8.
  assert.equal(r.usage.prompt_tokens, 7);
  assert.equal(r.usage.completion_tokens, 8);
  assert.equal(r.usage.total_tokens, 15);

  const rec = s.onlyUpstream(m);
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, GEN_PATH);
  assert.match(rec.headers['content-type'], /^application\/json/);
  assert.deepEqual(rec.json.contents, [{role: 'user', parts: [{text: 'Hello from the OpenAI SDK'}]}]);
  assert.equal(rec.json.systemInstruction, undefined);
  assert.equal(rec.json.model, undefined, 'the model goes in the path only');
  assert.equal(rec.json.messages, undefined, 'no OpenAI fields leak upstream');
});

test('system and developer messages become systemInstruction parts, in order', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL,
    messages: [
      {role: 'system', content: 'Be terse.'},
      {role: 'user', content: 'first'},
      {role: 'developer', content: [{type: 'text', text: 'Answer in English.'}]},
      {role: 'user', content: 'second'},
    ]});
  assert.match(r.choices[0].message.content, /^echo: /);
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.systemInstruction,
                   {parts: [{text: 'Be terse.'}, {text: 'Answer in English.'}]});
  assert.deepEqual(rec.json.contents, [{role: 'user', parts: [{text: 'first'}, {text: 'second'}]}],
                   'system turns removed from contents, consecutive user turns merged');
  assert.ok(!JSON.stringify(rec.json.contents).includes('Be terse'));
});

test('non-ASCII text survives both ways (UTF-8, astral characters, escapes)', async () => {
  const text = 'héllo 👋 中文 "quoted" \\ back\\slash \u2028 line-sep';
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: text}]});
  assert.deepEqual(s.onlyUpstream(m).json.contents[0].parts, [{text}], 'upstream got the exact text');
  // The fake collapses whitespace (U+2028 included) in its echo.
  assert.equal(r.choices[0].message.content, `echo: ${stripDirectives(text)}`);
});

test('sampling parameters map to generationConfig', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'params'}],
    temperature: 0.3, top_p: 0.8, max_tokens: 123, stop: ['END', 'STOP!'], seed: 42,
    presence_penalty: 0.5, frequency_penalty: 0.25});
  assert.equal(r.choices[0].message.content, 'echo: params');
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.generationConfig, {
    temperature: 0.3, topP: 0.8, maxOutputTokens: 123, stopSequences: ['END', 'STOP!'], seed: 42,
    presencePenalty: 0.5, frequencyPenalty: 0.25});
});

test('max_completion_tokens wins over max_tokens; a stop string becomes a one-item list', async () => {
  const m = s.mark();
  await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'caps'}], max_tokens: 500,
    max_completion_tokens: 64, stop: 'END'});
  const gc = s.onlyUpstream(m).json.generationConfig;
  assert.equal(gc.maxOutputTokens, 64);
  assert.deepEqual(gc.stopSequences, ['END']);
  const m2 = s.mark();
  await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'caps'}], max_completion_tokens: 77});
  assert.equal(s.onlyUpstream(m2).json.generationConfig.maxOutputTokens, 77);
});

test('n=2 → candidateCount 2, and two candidates come back as two choices', async () => {
  s.fake.script({match: {pathIncludes: ':generateContent'}, body: {
    candidates: [
      {content: {role: 'model', parts: [{text: 'first answer'}]}, finishReason: 'STOP', index: 0},
      {content: {role: 'model', parts: [{text: 'second, cut'}]}, finishReason: 'MAX_TOKENS', index: 1},
    ],
    usageMetadata: {promptTokenCount: 3, candidatesTokenCount: 6, totalTokenCount: 9},
    modelVersion: MODEL, responseId: 'resp-n2'}});
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'two please'}], n: 2});
  assert.equal(s.onlyUpstream(m).json.generationConfig.candidateCount, 2);
  assert.equal(r.choices.length, 2);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
  assert.equal(r.choices[0].message.content, 'first answer');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[1].message.content, 'second, cut');
  assert.equal(r.choices[1].finish_reason, 'length');
  assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [3, 6, 9]);
});

test('usage: thought tokens count as completion (reasoning) tokens', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'think [[thoughts=11]]'}]});
  s.onlyUpstream(m);
  // prompt "think [[thoughts=11]]" = 21 chars → 6; reply "echo: think" = 11 chars → 3.
  assert.equal(r.usage.prompt_tokens, 6);
  assert.equal(r.usage.completion_tokens, 3 + 11);
  assert.equal(r.usage.total_tokens, 6 + 3 + 11);
  assert.equal(r.usage.completion_tokens_details?.reasoning_tokens, 11);
  assert.ok(!('reasoning_content' in r.choices[0].message) || !r.choices[0].message.reasoning_content,
            'no reasoning text unless asked for');
});

test('thought parts never reach content; reasoning_content only when the client asks', async () => {
  const plain = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'ponder [[thought]]'}]});
  assert.equal(plain.choices[0].message.content, 'echo: ponder');
  assert.ok(!plain.choices[0].message.reasoning_content, 'no reasoning text unless asked for');

  const m = s.mark();
  const asked = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'ponder [[thought]]'}],
    // Google's compat-layer extension (extra_body={"google": ...} in the Python SDK).
    google: {thinking_config: {include_thoughts: true}}});
  assert.equal(asked.choices[0].message.content, 'echo: ponder');
  assert.equal(asked.choices[0].message.reasoning_content, 'Thinking about the echo.');
  const rec = s.onlyUpstream(m);
  assert.equal(rec.json.generationConfig?.thinkingConfig?.includeThoughts, true);
  assert.equal(rec.json.google, undefined, 'the extension itself is not forwarded');
});

test('an upstream reply with neither candidates nor a block reason → InternalServerError 502',
     async () => {
  s.fake.script({match: {pathIncludes: ':generateContent'},
                 body: {usageMetadata: {promptTokenCount: 1, totalTokenCount: 1}}});
  const err = await sdkRejects(() => s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'x'}]}), OpenAI.InternalServerError, 502);
  assertOpenAIErrorShape(err.error, {type: 'server_error', code: 'bad_upstream_response'});
});

test('an image as a data URI → inlineData with its MIME type and base64', async () => {
  const b64 = PNG_1X1.toString('base64');
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: [
      {type: 'text', text: 'What is in this picture?'},
      {type: 'image_url', image_url: {url: `data:image/png;base64,${b64}`, detail: 'low'}},
    ]}]});
  assert.equal(r.choices[0].message.content, 'echo: What is in this picture?');
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.contents, [{role: 'user', parts: [
    {text: 'What is in this picture?'},
    {inlineData: {mimeType: 'image/png', data: b64}},
  ]}]);
});

/** A local HTTP server serving PNG_1X1 at /cat.png; records the requests it gets. */
async function imageServer(t, {contentType = 'image/png'} = {}) {
  const hits = [];
  const srv = http.createServer((req, res) => {
    hits.push({method: req.method, url: req.url, headers: req.headers});
    if (req.url !== '/cat.png') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {'content-type': contentType, 'content-length': PNG_1X1.length});
    res.end(PNG_1X1);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { srv.closeAllConnections?.(); srv.close(resolve); }));
  return {url: `http://127.0.0.1:${srv.address().port}/cat.png`, hits};
}

test('an http image URL is downloaded by the gateway and inlined (private URLs allowed)', async (t) => {
  const img = await imageServer(t, {contentType: 'application/octet-stream'});
  const s2 = await openaiStack({fake: s.fake, settings: {openai_fetch_private_urls: true}});
  t.after(() => s2.close());
  const m = s2.mark();
  const r = await s2.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: [
      {type: 'text', text: 'Describe'},
      {type: 'image_url', image_url: {url: img.url}},
    ]}]});
  assert.equal(r.choices[0].message.content, 'echo: Describe');
  assert.equal(img.hits.length, 1, 'the gateway fetched the image once');
  assert.equal(img.hits[0].method, 'GET');
  assert.ok(!JSON.stringify(img.hits[0].headers).includes(s2.token),
            'the client token is not sent to the image host');
  const rec = s2.onlyUpstream(m);
  assert.deepEqual(rec.json.contents[0].parts, [
    {text: 'Describe'},
    {inlineData: {mimeType: 'image/png', data: PNG_1X1.toString('base64')}},  // sniffed from the bytes
  ]);
});

test('by default an image URL on a private address is refused: 400, nothing fetched or sent upstream',
     async (t) => {
  const img = await imageServer(t);
  const m = s.mark();
  const err = await sdkRejects(() => s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: [
      {type: 'text', text: 'Describe'}, {type: 'image_url', image_url: {url: img.url}}]}]}),
  OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(err.error, {type: 'invalid_request_error', code: 'invalid_image_url'});
  assert.match(err.message, /private|local/i);
  assert.equal(img.hits.length, 0, 'the gateway did not read its own network');
  assert.equal(s.upstreamSince(m).length, 0, 'nothing sent upstream');
});

test('response_format json_schema → responseMimeType + the schema; content parses as JSON', async () => {
  const schema = {type: 'object', properties: {echo: {type: 'string'}}, required: ['echo'],
                  additionalProperties: false};
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'structured'}],
    response_format: {type: 'json_schema', json_schema: {name: 'Echo', strict: true, schema}}});
  assert.deepEqual(JSON.parse(r.choices[0].message.content), {echo: 'structured'});
  const gc = s.onlyUpstream(m).json.generationConfig;
  assert.equal(gc.responseMimeType, 'application/json');
  const sent = gc.responseJsonSchema ?? gc.responseSchema;
  assert.ok(sent, 'a schema went upstream');
  assert.ok(!(gc.responseJsonSchema && gc.responseSchema), 'never both schema fields');
  assert.deepEqual(sent.properties, {echo: {type: 'string'}});
  assert.deepEqual(sent.required, ['echo']);
  assert.equal(sent.name, undefined, 'the {name, strict} wrapper is not sent as the schema');
  assert.equal(sent.strict, undefined);
});

test('response_format json_object → JSON mode without a schema', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'reply in JSON'}],
    response_format: {type: 'json_object'}});
  assert.deepEqual(JSON.parse(r.choices[0].message.content), {echo: 'reply in JSON'});
  const gc = s.onlyUpstream(m).json.generationConfig;
  assert.equal(gc.responseMimeType, 'application/json');
  assert.equal(gc.responseJsonSchema, undefined);
  assert.equal(gc.responseSchema, undefined);
});

test('reasoning_effort → thinkingConfig.thinkingBudget on Gemini 2.5 (no thought text asked for)',
     async () => {
  const budgets = {none: 0, low: 1024, medium: 8192, high: 24576};
  for (const [effort, budget] of Object.entries(budgets)) {
    const m = s.mark();
    const r = await s.client().chat.completions.create({
      model: MODEL, messages: [{role: 'user', content: `effort ${effort}`}], reasoning_effort: effort});
    assert.equal(r.choices[0].message.content, `echo: effort ${effort}`);
    const tc = s.onlyUpstream(m).json.generationConfig?.thinkingConfig;
    assert.deepEqual(tc, {thinkingBudget: budget}, `reasoning_effort ${effort}`);
  }
});

test('a blocked prompt is a 200 with finish_reason content_filter and no content', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'something bad [[block]]'}]});
  s.onlyUpstream(m);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].finish_reason, 'content_filter');
  assert.equal(r.choices[0].message.content, null);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(r.usage.prompt_tokens > 0, 'prompt usage still reported');
  assert.equal(r.usage.completion_tokens, 0);
});

test('a SAFETY stop after some text keeps the text, finish_reason content_filter', async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'edgy [[finish=SAFETY]]'}]});
  s.onlyUpstream(m);
  assert.equal(r.choices[0].finish_reason, 'content_filter');
  assert.equal(r.choices[0].message.content, 'echo: edgy');
});

test('all three route prefixes serve chat completions', async () => {
  for (const prefix of PREFIXES) {
    const m = s.mark();
    const r = await s.client({prefix}).chat.completions.create({
      model: MODEL, messages: [{role: 'user', content: `via ${prefix}`}]});
    assert.equal(r.choices[0].message.content, `echo: via ${prefix}`, prefix);
    assert.equal(s.onlyUpstream(m).path, GEN_PATH, prefix);
  }
});

test('model prefixes "models/" and "google/" are stripped for the path, echoed in the reply',
     async () => {
  for (const model of ['models/gemini-2.5-pro', 'google/gemini-2.5-pro']) {
    const m = s.mark();
    const r = await s.client().chat.completions.create({
      model, messages: [{role: 'user', content: 'prefixed model'}]});
    assert.equal(r.model, model);
    assert.equal(s.onlyUpstream(m).path, '/v1beta/models/gemini-2.5-pro:generateContent');
  }
});
