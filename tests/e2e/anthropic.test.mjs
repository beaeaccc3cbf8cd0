// The Anthropic Messages front, driven by the official SDK (npm @anthropic-ai/sdk, pinned in
// tests/package.json) against the stand-in Gemini upstream: what the SDK returns, and exactly what
// Gemini received for it (pool key in x-goog-api-key; no client token, x-api-key, Authorization
// or anthropic-* header upstream).

import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey} from '../support/gateway.mjs';

let Anthropic;
let fake;
let s;  // shared stack: two valid keys

async function stack(keys) {
  const st = await startStack({fake, keys: keys || [poolKey('Valid'), poolKey('Valid')]});
  st.client = ({prefix = '', apiKey = st.token, authToken, maxRetries = 0} = {}) =>
    new Anthropic({baseURL: st.gw.url + prefix, maxRetries, timeout: 20000,
                   ...(authToken ? {authToken, apiKey: null} : {apiKey})});
  st.mark = () => fake.requests().at(-1)?.id ?? 0;
  st.upstream = (mark) => {
    const recs = fake.requests().filter((r) => r.id > mark);
    for (const rec of recs) {
      assert.ok(st.keys.includes(rec.headers['x-goog-api-key']), 'a pool key went upstream');
      assert.equal(rec.headers.authorization, undefined, 'no Authorization upstream');
      assert.equal(rec.headers['x-api-key'], undefined, 'no x-api-key upstream');
      assert.equal(rec.headers['anthropic-version'], undefined, 'no anthropic-version upstream');
      assert.ok(!JSON.stringify(rec).includes(st.token), 'the client token never goes upstream');
      rec.json = rec.body ? JSON.parse(rec.body) : undefined;
    }
    return recs;
  };
  return st;
}

before(async () => {
  Anthropic = (await import('@anthropic-ai/sdk')).default;
  fake = await startFakeGemini();
  s = await stack();
});
after(async () => {
  await s?.close();
  await fake?.close();
});

const user = (text) => [{role: 'user', content: text}];

test('messages.create: text answer, claude-* mapped to a pro model, system and config sent',
     async () => {
  const m = s.mark();
  const msg = await s.client().messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 256, temperature: 0.5, top_k: 20,
    stop_sequences: ['END'], system: [{type: 'text', text: 'Be brief.', cache_control: {type: 'ephemeral'}}],
    metadata: {user_id: 'u1'}, messages: user('hello there'),
  }, {headers: {'anthropic-beta': 'prompt-caching-2024-07-31'}});
  assert.match(msg.id, /^msg_/);
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.model, 'claude-sonnet-4-5');
  assert.deepEqual(msg.content, [{type: 'text', text: 'echo: hello there'}]);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(msg.stop_sequence, null);
  assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0, JSON.stringify(msg.usage));
  assert.equal(msg.usage.cache_read_input_tokens, 0);
  const [rec] = s.upstream(m);
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-pro:generateContent');
  assert.deepEqual(rec.json.systemInstruction, {parts: [{text: 'Be brief.'}]});
  assert.deepEqual(rec.json.contents, [{role: 'user', parts: [{text: 'hello there'}]}]);
  assert.deepEqual(rec.json.generationConfig,
                   {maxOutputTokens: 256, temperature: 0.5, topK: 20, stopSequences: ['END']});
});

test('a haiku model (the agents\' small fast model) goes to a flash model', async () => {
  const m = s.mark();
  await s.client().messages.create({model: 'claude-3-5-haiku-20241022', max_tokens: 16,
                                    messages: user('quick')});
  assert.equal(s.upstream(m)[0].path, '/v1beta/models/gemini-2.5-flash:generateContent');
});

test('messages.stream: the SDK assembles the events; finalMessage matches the text deltas',
     async () => {
  const m = s.mark();
  const stream = s.client().messages.stream({model: 'claude-opus-4-1', max_tokens: 64,
                                             messages: user('stream me [[chunks=4]]')});
  const types = [];
  let text = '';
  stream.on('streamEvent', (e) => types.push(e.type));
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(types.at(-2), 'message_delta');
  assert.ok(types.includes('content_block_start') && types.includes('content_block_stop'));
  assert.equal(final.content.length, 1);
  assert.equal(final.content[0].text, text);
  assert.match(text, /^echo: stream me #1 #2 #3$/);
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(final.usage.output_tokens > 0);
  const [rec] = s.upstream(m);
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-pro:streamGenerateContent');
  assert.equal(rec.query.alt ?? new URLSearchParams(rec.query).get('alt'), 'sse');
});

test('tools round trip: tool_use with the thought signature in its id, which comes back on the call',
     async () => {
  const tools = [{name: 'get_weather', description: 'Weather of a city',
                  input_schema: {type: 'object', properties: {city: {type: 'string'}},
                                 required: ['city'], additionalProperties: false,
                                 $schema: 'http://json-schema.org/draft-07/schema#'}}];
  let m = s.mark();
  const first = await s.client().messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 128, tools, tool_choice: {type: 'auto'},
    messages: user('weather in Paris [[call=get_weather]]'),
  });
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((b) => b.type === 'tool_use');
  assert.ok(use, JSON.stringify(first.content));
  assert.equal(use.name, 'get_weather');
  assert.match(use.id, /^toolu_[A-Za-z0-9_-]+$/);
  assert.deepEqual(use.input, {echo: 'weather in Paris'});
  let [rec] = s.upstream(m);
  const decl = rec.json.tools[0].functionDeclarations[0];
  assert.equal(decl.name, 'get_weather');
  assert.equal(decl.parametersJsonSchema.$schema, undefined, 'schema cleaned for Gemini');
  assert.deepEqual(rec.json.toolConfig, {functionCallingConfig: {mode: 'AUTO'}});

  m = s.mark();
  const second = await s.client().messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 128, tools,
    tool_choice: {type: 'tool', name: 'get_weather', disable_parallel_tool_use: true},
    messages: [
      ...user('weather in Paris'),  // (the fake would answer its directive again)
      {role: 'assistant', content: first.content},
      {role: 'user', content: [{type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21C'},
                               {type: 'text', text: 'and now?'}]},
    ],
  });
  assert.equal(second.content[0].text, 'echo: and now?');
  [rec] = s.upstream(m);
  const modelTurn = rec.json.contents[1];
  assert.equal(modelTurn.role, 'model');
  const call = modelTurn.parts.find((p) => p.functionCall);
  assert.deepEqual(call.functionCall, {name: 'get_weather', args: {echo: 'weather in Paris'}});
  assert.equal(call.thoughtSignature, Buffer.from('fake-signature:get_weather').toString('base64'),
               'the signature Gemini gave arrives back on its functionCall');
  assert.deepEqual(rec.json.contents[2], {role: 'user', parts: [
    {functionResponse: {name: 'get_weather', response: {content: 'sunny, 21C'}}},
    {text: 'and now?'}]});
  assert.deepEqual(rec.json.toolConfig,
                   {functionCallingConfig: {mode: 'ANY', allowedFunctionNames: ['get_weather']}});
});

test('a streamed tool call: input_json_delta, and the SDK parses the input', async () => {
  const final = await s.client().messages.stream({
    model: 'claude-sonnet-4-5', max_tokens: 64,
    tools: [{name: 'lookup', input_schema: {type: 'object', properties: {}}}],
    messages: user('find it [[call=lookup]]'),
  }).finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content[0].type, 'tool_use');
  assert.deepEqual(final.content[0].input, {echo: 'find it'});
});

test('thinking: budget → thinkingConfig; thought parts come back as thinking blocks', async () => {
  const m = s.mark();
  const msg = await s.client().messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 4096, thinking: {type: 'enabled', budget_tokens: 2048},
    messages: user('think [[thought]]'),
  });
  assert.equal(msg.content[0].type, 'thinking');
  assert.equal(msg.content[0].thinking, 'Thinking about the echo.');
  assert.equal(typeof msg.content[0].signature, 'string');
  assert.equal(msg.content[1].text, 'echo: think');
  const [rec] = s.upstream(m);
  assert.deepEqual(rec.json.generationConfig.thinkingConfig,
                   {thinkingBudget: 2048, includeThoughts: true});

  const streamed = await s.client().messages.stream({
    model: 'claude-sonnet-4-5', max_tokens: 4096, thinking: {type: 'enabled', budget_tokens: 1024},
    messages: user('think more [[thought]]'),
  }).finalMessage();
  assert.equal(streamed.content[0].type, 'thinking');
  assert.equal(streamed.content[0].thinking, 'Thinking about the echo.');
});

test('countTokens → Gemini countTokens, answered as {input_tokens}', async () => {
  const m = s.mark();
  const r = await s.client().messages.countTokens({model: 'claude-sonnet-4-5', system: 'sys',
                                                   messages: user('count these words')});
  assert.ok(Number.isInteger(r.input_tokens) && r.input_tokens > 0, JSON.stringify(r));
  const [rec] = s.upstream(m);
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-pro:countTokens');
  assert.deepEqual(rec.json.contents[0], {role: 'user', parts: [{text: 'sys'}]});
});

test('images (base64) go to Gemini as inlineData', async () => {
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const m = s.mark();
  const msg = await s.client().messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 32,
    messages: [{role: 'user', content: [
      {type: 'image', source: {type: 'base64', media_type: 'image/png', data: png}},
      {type: 'text', text: 'what is this'}]}],
  });
  assert.equal(msg.content[0].text, 'echo: what is this');
  const [rec] = s.upstream(m);
  assert.deepEqual(rec.json.contents[0].parts[0], {inlineData: {mimeType: 'image/png', data: png}});
});

test('a blocked prompt → stop_reason refusal with no content (stream and not)', async () => {
  const msg = await s.client().messages.create({model: 'claude-sonnet-4-5', max_tokens: 32,
                                                messages: user('bad [[block]]')});
  assert.equal(msg.stop_reason, 'refusal');
  assert.deepEqual(msg.content, []);
  const streamed = await s.client().messages.stream({model: 'claude-sonnet-4-5', max_tokens: 32,
                                                     messages: user('bad [[block]]')}).finalMessage();
  assert.equal(streamed.stop_reason, 'refusal');
});

test('errors in Anthropic\'s shape: bad request 400, wrong token 401, unknown route 404', async () => {
  const m = s.mark();
  let err = await s.client().messages.create({model: 'claude-sonnet-4-5', messages: user('x')})
      .catch((e) => e);
  assert.ok(err instanceof Anthropic.BadRequestError, String(err));
  assert.equal(err.error.type, 'error');
  assert.equal(err.error.error.type, 'invalid_request_error');
  assert.match(err.error.error.message, /max_tokens/);
  assert.equal(s.upstream(m).length, 0, 'refused before the upstream');

  err = await s.client({apiKey: 'not-a-token'}).messages
      .create({model: 'claude-sonnet-4-5', max_tokens: 8, messages: user('x')}).catch((e) => e);
  assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
  assert.equal(err.error.error.type, 'authentication_error');

  const r = await fetch(`${s.gw.url}/anthropic/v1/nothing`, {headers: {'x-api-key': s.token}});
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.type, 'not_found_error');
});

test('the token as Authorization: Bearer (ANTHROPIC_AUTH_TOKEN) works too', async () => {
  const msg = await s.client({authToken: s.token}).messages.create(
      {model: 'claude-sonnet-4-5', max_tokens: 8, messages: user('bearer')});
  assert.equal(msg.content[0].text, 'echo: bearer');
});

test('/anthropic/v1/models lists Gemini models in Anthropic\'s shape', async () => {
  const page = await s.client({prefix: '/anthropic'}).models.list();
  const ids = page.data.map((x) => x.id);
  assert.ok(ids.includes('gemini-2.5-flash'), ids.join(','));
  assert.equal(page.data[0].type, 'model');
  const one = await s.client({prefix: '/anthropic'}).models.retrieve('gemini-2.5-pro');
  assert.equal(one.id, 'gemini-2.5-pro');
  assert.equal(one.display_name, 'Gemini 2.5 Pro');
  const msg = await s.client({prefix: '/anthropic'}).messages.create(
      {model: 'claude-sonnet-4-5', max_tokens: 8, messages: user('prefixed')});
  assert.equal(msg.content[0].text, 'echo: prefixed');
});

test('a key that answers 429 on a stream\'s first call is failed over', async (t) => {
  const quota = poolKey('Quota'), good = poolKey('Valid');
  const st = await stack([quota, good]);
  t.after(() => st.close());
  for (let i = 0; i < 2; i++) {
    const final = await st.client().messages.stream(
        {model: 'claude-sonnet-4-5', max_tokens: 32, messages: user(`fail over ${i}`)}).finalMessage();
    assert.match(final.content[0].text, new RegExp(`^echo: fail over ${i}`));
  }
  assert.equal(fake.callsFor(quota), 1, 'the cooling key is not tried again');
  assert.equal(fake.callsFor(good), 2);
});

test('an invalid pool key is failed over, never shown as the client\'s 401', async (t) => {
  const bad = poolKey('Invalid'), good = poolKey('Valid');
  let st = await stack([bad, good]);
  t.after(() => st.close());
  const msg = await st.client().messages.create({model: 'claude-sonnet-4-5', max_tokens: 8,
                                                 messages: user('fine')});
  assert.equal(msg.content[0].text, 'echo: fine');
  assert.equal(fake.callsFor(bad), 1);

  const dead = await stack([poolKey('Invalid')]);
  t.after(() => dead.close());
  const err = await dead.client().messages.create({model: 'claude-sonnet-4-5', max_tokens: 8,
                                                   messages: user('dead pool')}).catch((e) => e);
  assert.ok(err instanceof Anthropic.APIError, String(err));
  assert.ok(!(err instanceof Anthropic.AuthenticationError), `no 401 (got ${err.status})`);
  assert.ok(err.status >= 500, `5xx (got ${err.status})`);
  assert.ok(['api_error', 'overloaded_error'].includes(err.error.error.type), JSON.stringify(err.error));
  assert.ok(!err.message.includes(dead.keys[0]), 'no pool key in the message');
});

test('ping keep-alives during long upstream silences; the SDK ignores them', async (t) => {
  const fs = await import('node:fs');
  const {DEFAULT_CONFIG} = await import('../support/gateway.mjs');
  const yaml = fs.readFileSync(DEFAULT_CONFIG, 'utf8').replace(/ping_interval: 15s/, 'ping_interval: 50ms');
  assert.match(yaml, /ping_interval: 50ms/);
  const st = await startStack({fake, keys: [poolKey('Valid')], configYaml: yaml});
  t.after(() => st.close());
  const body = {model: 'claude-sonnet-4-5', max_tokens: 32, stream: true,
                messages: user('slow [[chunks=3 interval=400]]')};
  const r = await fetch(`${st.gw.url}/v1/messages`, {method: 'POST', body: JSON.stringify(body),
    headers: {'x-api-key': st.token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01'}});
  assert.equal(r.status, 200);
  const text = await r.text();
  const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.ok(events.includes('ping'), `a ping in ${events.join(',')}`);
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop', 'no ping after the end');
  assert.ok(text.includes('data: {"type": "ping"}') || text.includes('data: {"type":"ping"}'));

  const client = new Anthropic({baseURL: st.gw.url, apiKey: st.token, maxRetries: 0});
  const final = await client.messages.stream({...body, stream: undefined}).finalMessage();
  assert.match(final.content[0].text, /^echo: slow #1 #2$/);
});

test('image URLs are downloaded by the gateway (private addresses only when allowed)', async (t) => {
  const http = await import('node:http');
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  const files = http.createServer((req, res) => {
    res.writeHead(200, {'content-type': 'application/octet-stream'});
    res.end(png);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  t.after(() => files.close());
  const url = `http://127.0.0.1:${files.address().port}/cat.png`;
  const req = {model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{role: 'user', content: [
    {type: 'image', source: {type: 'url', url}}, {type: 'text', text: 'what is it'}]}]};

  // Default: the gateway never reads its own network.
  const err = await s.client().messages.create(req).catch((e) => e);
  assert.ok(err instanceof Anthropic.BadRequestError, String(err));
  assert.equal(err.error.error.type, 'invalid_request_error');

  const st = await startStack({fake, keys: [poolKey('Valid')],
                               settings: {anthropic_fetch_private_urls: true}});
  t.after(() => st.close());
  const m = fake.requests().at(-1)?.id ?? 0;
  const client = new Anthropic({baseURL: st.gw.url, apiKey: st.token, maxRetries: 0});
  const msg = await client.messages.create(req);
  assert.equal(msg.content[0].text, 'echo: what is it');
  const rec = fake.requests().filter((r) => r.id > m).at(-1);
  assert.deepEqual(JSON.parse(rec.body).contents[0].parts[0],
                   {inlineData: {mimeType: 'image/png', data: png.toString('base64')}},
                   'sniffed as PNG although served as octet-stream');
});
