// End to end with the official OpenAI Node SDK: the Responses API (`client.responses.*`)
// through gemgate's `responses` chain. Each test asserts what the SDK returns and what the
// stand-in Gemini upstream received. Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, sdkRejects, assertOpenAIErrorShape, collect, recordingFetch}
  from './openai-support.mjs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {poolKey, clientToken} from '../support/gateway.mjs';

let OpenAI, fake, s;
before(async () => {
  OpenAI = await loadOpenAI();
  fake = await startFakeGemini();
  s = await openaiStack({fake});
});
after(async () => {
  await s?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const MODEL = 'gemini-2.5-flash';
const TOOLS = [{type: 'function', name: 'get_weather', description: 'Weather of a city',
                parameters: {type: 'object', properties: {city: {type: 'string'}},
                             required: ['city']}}];

test('responses.create: a string input → output_text, usage, instructions as system', async () => {
  const m = s.mark();
  const r = await s.client().responses.create({model: MODEL, input: 'Hello there',
                                               instructions: 'Be brief.'});
  const rec = s.onlyUpstream(m);
  assert.match(rec.path, /models\/gemini-2\.5-flash:generateContent$/);
  assert.deepEqual(rec.json.systemInstruction.parts, [{text: 'Be brief.'}]);
  assert.deepEqual(rec.json.contents, [{role: 'user', parts: [{text: 'Hello there'}]}]);
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.equal(r.status, 'completed');
  assert.equal(r.model, MODEL);
  assert.equal(r.output_text, 'echo: Hello there');
  assert.equal(r.output.length, 1);
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(r.instructions, 'Be brief.');
  assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0, JSON.stringify(r.usage));
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  assert.equal(r.usage.output_tokens_details.reasoning_tokens, 0);
});

test('under /openai/v1 too; reasoning tokens counted; max_output_tokens → maxOutputTokens',
     async () => {
  const m = s.mark();
  const r = await s.client({prefix: '/openai/v1'}).responses.create({
    model: MODEL, input: 'Think [[thoughts=7]]', max_output_tokens: 50, temperature: 0.2});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.json.generationConfig.maxOutputTokens, 50);
  assert.equal(rec.json.generationConfig.temperature, 0.2);
  assert.equal(r.usage.output_tokens_details.reasoning_tokens, 7);
});

test('responses.stream: the events the SDK expects, in order, with sequence numbers', async () => {
  const m = s.mark();
  const f = recordingFetch();
  const stream = s.client({fetch: f}).responses.stream({model: MODEL,
                                                        input: 'Stream it [[chunks=3]]'});
  const events = await collect(stream);
  const final = await stream.finalResponse();
  const rec = s.onlyUpstream(m);
  assert.match(rec.path, /:streamGenerateContent$/);
  assert.equal(rec.query.alt, 'sse');
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress',
                                       'response.output_item.added',
                                       'response.content_part.added']);
  assert.ok(types.filter((t) => t === 'response.output_text.delta').length >= 3, types.join());
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done',
                                     'response.output_item.done', 'response.completed']);
  events.forEach((e, i) => assert.equal(e.sequence_number, i, `sequence_number of ${e.type}`));
  const text = events.filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta).join('');
  assert.equal(text, 'echo: Stream it #1 #2');
  assert.equal(final.output_text, text);
  assert.equal(final.status, 'completed');
  assert.ok(final.usage.total_tokens > 0);
  const created = events[0].response;
  assert.equal(created.status, 'in_progress');
  assert.equal(created.id, final.id);
  assert.match(f.log[0].headers.get('content-type'), /^text\/event-stream/);
});

test('function calling loop with previous_response_id: signature and name go back to Gemini',
     async () => {
  const c = s.client();
  const first = await c.responses.create({model: MODEL, input: 'Weather? [[call=get_weather]]',
                                          tools: TOOLS});
  const call = first.output.find((o) => o.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), {echo: 'Weather?'});
  assert.ok(call.call_id);
  const reasoning = first.output.find((o) => o.type === 'reasoning');
  assert.ok(reasoning, 'a reasoning item precedes the signed call');
  assert.equal(reasoning.encrypted_content, undefined, 'only with include');

  const m = s.mark();
  const second = await c.responses.create({
    model: MODEL, previous_response_id: first.id, tools: TOOLS,
    input: [{type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}'}]});
  const rec = s.onlyUpstream(m);
  const contents = rec.json.contents;
  assert.equal(contents.length, 3, JSON.stringify(contents));
  assert.deepEqual(contents[0], {role: 'user', parts: [{text: 'Weather? [[call=get_weather]]'}]});
  assert.equal(contents[1].role, 'model');
  assert.equal(contents[1].parts[0].functionCall.name, 'get_weather');
  assert.equal(contents[1].parts[0].thoughtSignature,
               Buffer.from('fake-signature:get_weather').toString('base64'));
  assert.equal(contents[2].role, 'user');
  assert.equal(contents[2].parts[0].functionResponse.name, 'get_weather');
  assert.equal(second.previous_response_id, first.id);
  assert.equal(second.status, 'completed');
});

test('a streamed function call, then its result through previous_response_id', async () => {
  const c = s.client();
  const stream = c.responses.stream({model: MODEL, input: 'Weather? [[call=get_weather]]',
                                     tools: TOOLS});
  const events = await collect(stream);
  const final = await stream.finalResponse();
  const types = events.map((e) => e.type);
  assert.ok(types.includes('response.function_call_arguments.delta'), types.join());
  const done = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.deepEqual(JSON.parse(done.arguments), {echo: 'Weather?'});
  const call = final.output.find((o) => o.type === 'function_call');
  assert.equal(call.name, 'get_weather');
  const m = s.mark();
  await c.responses.create({model: MODEL, previous_response_id: final.id, tools: TOOLS,
                            input: [{type: 'function_call_output', call_id: call.call_id,
                                     output: 'sunny'}]});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.json.contents[1].parts[0].thoughtSignature,
               Buffer.from('fake-signature:get_weather').toString('base64'));
  assert.deepEqual(rec.json.contents[2].parts[0].functionResponse,
                   {name: 'get_weather', response: {output: 'sunny'}});
});

test('a custom (freeform) tool, as Codex CLI\'s apply_patch: custom_tool_call both ways',
     async () => {
  const tools = [{type: 'custom', name: 'apply_patch', description: 'Apply a patch'}];
  const c = s.client();
  let m = s.mark();
  const first = await c.responses.create({model: MODEL, input: 'Patch [[call=apply_patch]]',
                                          tools});
  let rec = s.onlyUpstream(m);
  const decl = rec.json.tools[0].functionDeclarations[0];
  assert.equal(decl.name, 'apply_patch');
  assert.deepEqual(decl.parametersJsonSchema.required, ['input']);
  const call = first.output.find((o) => o.type === 'custom_tool_call');
  assert.ok(call, JSON.stringify(first.output));
  m = s.mark();
  await c.responses.create({model: MODEL, previous_response_id: first.id, tools,
                            input: [{type: 'custom_tool_call_output', call_id: call.call_id,
                                     output: 'applied'}]});
  rec = s.onlyUpstream(m);
  assert.equal(rec.json.contents[1].parts[0].functionCall.name, 'apply_patch');
  assert.equal(rec.json.contents[2].parts[0].functionResponse.name, 'apply_patch');
});

test('store: false with encrypted reasoning works statelessly; a forged one is not sent',
     async () => {
  const c = s.client();
  const first = await c.responses.create({model: MODEL, input: 'Go [[call=lookup]]', store: false,
                                          include: ['reasoning.encrypted_content'], tools: TOOLS});
  const reasoning = first.output.find((o) => o.type === 'reasoning');
  assert.match(reasoning.encrypted_content, /^ggr1\./);
  const call = first.output.find((o) => o.type === 'function_call');
  await sdkRejects(() => c.responses.retrieve(first.id), OpenAI.NotFoundError, 404);

  const followUp = (items) => c.responses.create({
    model: MODEL, store: false, tools: TOOLS,
    input: [{role: 'user', content: 'Go [[call=lookup]]'}, ...items,
            {type: 'function_call_output', call_id: call.call_id, output: 'ok'}]});
  let m = s.mark();
  await followUp(first.output);
  let rec = s.onlyUpstream(m);
  assert.equal(rec.json.contents[1].parts[0].thoughtSignature,
               Buffer.from('fake-signature:lookup').toString('base64'));

  const forged = first.output.map((o) => o.type === 'reasoning'
      ? {...o, encrypted_content: o.encrypted_content.replace(/^ggr1\.../, 'ggr1.00')} : o);
  m = s.mark();
  await followUp(forged);
  rec = s.onlyUpstream(m);
  assert.equal(rec.json.contents[1].parts[0].thoughtSignature, undefined,
               'an altered encrypted_content never reaches Gemini');
});

test('structured output: text.format json_schema → responseJsonSchema', async () => {
  const m = s.mark();
  const schema = {type: 'object', properties: {answer: {type: 'string'}}, required: ['answer'],
                  additionalProperties: false};
  await s.client().responses.create({model: MODEL, input: 'JSON please',
                                     text: {format: {type: 'json_schema', name: 'a', schema,
                                                     strict: true}}});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.json.generationConfig.responseMimeType, 'application/json');
  assert.deepEqual(rec.json.generationConfig.responseJsonSchema.properties,
                   {answer: {type: 'string'}});
});

test('retrieve, input_items and delete; another token gets 404', async () => {
  const other = clientToken('other');
  const s2 = await openaiStack({fake, env: {ALLOWED_TOKENS: `${s.token},${other}`}});
  try {
    const c = s2.client({apiKey: s.token});
    const r = await c.responses.create({model: MODEL,
                                        input: [{role: 'user', content: 'keep me'}]});
    const got = await c.responses.retrieve(r.id);
    assert.equal(got.id, r.id);
    assert.equal(got.output[0].content[0].text, 'echo: keep me');
    const items = await c.responses.inputItems.list(r.id);
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].role, 'user');
    const stranger = s2.client({apiKey: other});
    const e = await sdkRejects(() => stranger.responses.retrieve(r.id), OpenAI.NotFoundError,
                               404);
    assertOpenAIErrorShape(e.error, {type: 'invalid_request_error'});
    await sdkRejects(() => stranger.responses.delete(r.id), OpenAI.NotFoundError, 404);
    await sdkRejects(() => stranger.responses.create({model: MODEL, input: 'x',
                                                      previous_response_id: r.id}),
                     OpenAI.NotFoundError, 404);
    await c.responses.delete(r.id);
    await sdkRejects(() => c.responses.retrieve(r.id), OpenAI.NotFoundError, 404);
  } finally {
    await s2.close();
  }
});

test('web_search → googleSearch; grounding → url_citation annotations', async () => {
  fake.script({match: {pathIncludes: ':generateContent'}, body: {
    candidates: [{content: {role: 'model', parts: [{text: 'Paris is in France.'}]},
                  finishReason: 'STOP', index: 0,
                  groundingMetadata: {
                    webSearchQueries: ['where is paris'],
                    groundingChunks: [{web: {uri: 'https://example.org/paris', title: 'Paris'}}],
                    groundingSupports: [{segment: {startIndex: 0, endIndex: 18},
                                         groundingChunkIndices: [0]}]}}],
    usageMetadata: {promptTokenCount: 3, candidatesTokenCount: 5, totalTokenCount: 8}}});
  const m = s.mark();
  const r = await s.client().responses.create({model: MODEL, input: 'Where is Paris?',
                                               tools: [{type: 'web_search'}]});
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.tools, [{googleSearch: {}}]);
  const msg = r.output.find((o) => o.type === 'message');
  assert.deepEqual(msg.content[0].annotations, [{type: 'url_citation', start_index: 0,
                                                 end_index: 18, url: 'https://example.org/paris',
                                                 title: 'Paris'}]);
  assert.ok(r.output.some((o) => o.type === 'web_search_call'));
});

test('a blocked prompt and a max-tokens stop are incomplete responses', async () => {
  const c = s.client();
  const blocked = await c.responses.create({model: MODEL, input: 'bad [[block]]'});
  assert.equal(blocked.status, 'incomplete');
  assert.deepEqual(blocked.incomplete_details, {reason: 'content_filter'});
  const cut = await c.responses.create({model: MODEL, input: 'long [[finish=MAX_TOKENS]]'});
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, {reason: 'max_output_tokens'});
  const events = await collect(c.responses.stream({model: MODEL,
                                                   input: 'long [[finish=MAX_TOKENS]]'}));
  assert.equal(events.at(-1).type, 'response.incomplete');
});

test('bad input → OpenAI-shaped 400 naming the field; unknown previous id → 404', async () => {
  const c = s.client();
  let e = await sdkRejects(() => c.responses.create({model: MODEL, input: 42}),
                           OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(e.error, {type: 'invalid_request_error', param: 'input'});
  e = await sdkRejects(() => c.responses.create({model: MODEL, input: 'x',
                                                 tools: [{type: 'file_search'}]}),
                       OpenAI.BadRequestError, 400);
  assert.equal(e.error.param, 'tools[0].type');
  e = await sdkRejects(() => c.responses.create({
    model: MODEL, input: [{type: 'function_call_output', call_id: 'nope', output: 'x'}]}),
  OpenAI.BadRequestError, 400);
  assert.match(e.error.param, /^input\[0\]/);
  e = await sdkRejects(() => c.responses.create({model: MODEL, input: 'x',
                                                 previous_response_id: 'resp_missing'}),
                       OpenAI.NotFoundError, 404);
  assert.equal(e.error.param, 'previous_response_id');
  const junk = `resp_../${s.token}`;  // not an id of ours: refused before storage, never echoed
  e = await sdkRejects(() => c.responses.create({model: MODEL, input: 'x',
                                                 previous_response_id: junk}),
                       OpenAI.NotFoundError, 404);
  assert.ok(!e.error.message.includes(s.token), e.error.message);
  const get = await fetch(s.url(`/v1/responses/${encodeURIComponent(junk)}`),
                          {headers: {authorization: `Bearer ${s.token}`}});
  assert.ok(get.status === 404 || get.status === 400, `refused (${get.status})`);  // 400: the
  assert.ok(!(await get.text()).includes(s.token));  // server's path check may refuse it first
  const res = await fetch(s.url('/v1/responses'), {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`,
                              'content-type': 'application/json'}, body: '{not json'});
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.type, 'invalid_request_error');
});

test('a stream that fails mid-way ends with response.failed', async () => {
  const f = recordingFetch();
  const stream = s.client({fetch: f}).responses.create({
    model: MODEL, input: 'x [[chunks=3 error_after=1]]', stream: true});
  const events = [];
  try {
    for await (const e of await stream) events.push(e);
  } catch (e) {
    // the SDK may raise on the failed event; what was received is checked below
  }
  const raw = await f.log[0].raw;
  assert.match(raw, /event: response\.failed/);
  assert.doesNotMatch(raw, /response\.completed/);
});

test('a key that answers 429 on the first call of a stream fails over', async () => {
  const s2 = await openaiStack({fake, keys: [poolKey('Quota'), poolKey('Valid')]});
  try {
    for (let i = 0; i < 2; ++i) {  // round-robin: one of the two calls starts on the quota key
      const events = await collect(s2.client().responses.stream({model: MODEL,
                                                                 input: `failover ${i}`}));
      assert.equal(events.at(-1).type, 'response.completed');
    }
    const calls = fake.stats().calls;
    assert.ok(calls[s2.keys[0]] >= 1, `the quota key was tried: ${JSON.stringify(calls)}`);
  } finally {
    await s2.close();
  }
});

test('an invalid pool key is failed over, never shown as the client\'s 401', async () => {
  const s2 = await openaiStack({fake, keys: [poolKey('Invalid'), poolKey('Valid')]});
  try {
    for (let i = 0; i < 2; ++i) {
      const r = await s2.client().responses.create({model: MODEL, input: `hello ${i}`});
      assert.equal(r.status, 'completed');
    }
  } finally {
    await s2.close();
  }
});
