// End to end with the official OpenAI Node SDK: function calling through gemgate. The upstream is
// scripted to answer Gemini functionCall parts; the SDK must see OpenAI tool_calls, and when the
// client sends the tool results back the upstream must receive functionCall + functionResponse
// parts (function name recovered from the tool_call_id) and the thought signature it issued.
// Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, collect} from './openai-support.mjs';

let OpenAI, s;
before(async () => {
  OpenAI = await loadOpenAI();
  s = await openaiStack();
});
after(async () => { await s?.close(); });
beforeEach(() => s.fake.reset());

const MODEL = 'gemini-2.5-flash';
const SIG = Buffer.from('opaque-thought-signature/+=#1').toString('base64');  // has + / =
const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather', description: 'Current weather of a city',
    parameters: {type: 'object', properties: {city: {type: 'string', description: 'City name'}},
                 required: ['city'], additionalProperties: false},
    strict: true,
  },
}];
const USER = {role: 'user', content: 'Weather in Paris?'};

function callPart(name, args, signature) {
  const part = {functionCall: {name, args}};
  if (signature) part.thoughtSignature = signature;
  return part;
}

/** Queues one generateContent answer holding the given parts. */
function scriptCall(parts, finishReason = 'STOP') {
  s.fake.script({match: {pathIncludes: ':generateContent'}, body: {
    candidates: [{content: {role: 'model', parts}, finishReason, index: 0}],
    usageMetadata: {promptTokenCount: 12, candidatesTokenCount: 5, totalTokenCount: 17},
    modelVersion: MODEL, responseId: 'resp-tools'}});
}

test('a functionCall answer → tool_calls with id, name, JSON arguments; finish_reason tool_calls',
     async () => {
  scriptCall([callPart('get_weather', {city: 'Paris', days: 2})]);
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: MODEL, messages: [USER], tools: TOOLS, tool_choice: 'auto'});
  const rec = s.onlyUpstream(m);
  const decl = rec.json.tools?.[0]?.functionDeclarations?.[0];
  assert.ok(decl, `functionDeclarations sent: ${JSON.stringify(rec.json.tools)}`);
  assert.equal(rec.json.tools.length, 1, 'all declarations in one Tool');
  assert.equal(decl.name, 'get_weather');
  assert.equal(decl.description, 'Current weather of a city');
  const params = decl.parametersJsonSchema ?? decl.parameters;
  assert.deepEqual(params.properties.city, {type: 'string', description: 'City name'});
  assert.deepEqual(params.required, ['city']);
  assert.equal(params.strict, undefined);
  assert.equal(decl.strict, undefined, '`strict` is not a Gemini field');
  assert.deepEqual(rec.json.toolConfig, {functionCallingConfig: {mode: 'AUTO'}});

  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.content, null);
  assert.equal(c.message.tool_calls.length, 1);
  const tc = c.message.tool_calls[0];
  assert.equal(typeof tc.id, 'string');
  assert.ok(tc.id.length > 0);
  assert.equal(tc.type, 'function');
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), {city: 'Paris', days: 2});
});

test('tool_choice required / a named function → mode ANY (+ allowedFunctionNames)', async () => {
  const m = s.mark();
  await s.client().chat.completions.create({
    model: MODEL, messages: [USER], tools: TOOLS, tool_choice: 'required'});
  assert.deepEqual(s.onlyUpstream(m).json.toolConfig, {functionCallingConfig: {mode: 'ANY'}});
  const m2 = s.mark();
  await s.client().chat.completions.create({
    model: MODEL, messages: [USER], tools: TOOLS,
    tool_choice: {type: 'function', function: {name: 'get_weather'}}});
  assert.deepEqual(s.onlyUpstream(m2).json.toolConfig,
                   {functionCallingConfig: {mode: 'ANY', allowedFunctionNames: ['get_weather']}});
});

test('tool-result round trip: functionCall and functionResponse (name recovered from the id)',
     async () => {
  scriptCall([callPart('get_weather', {city: 'Paris'}), callPart('get_time', {tz: 'CET'})]);
  const client = s.client();
  const first = await client.chat.completions.create({model: MODEL, messages: [USER], tools: TOOLS});
  const msg = first.choices[0].message;
  assert.equal(msg.tool_calls.length, 2);
  assert.notEqual(msg.tool_calls[0].id, msg.tool_calls[1].id, 'tool call ids are unique');

  const m = s.mark();
  const second = await client.chat.completions.create({
    model: MODEL, tools: TOOLS,
    messages: [
      USER,
      msg,  // the assistant message exactly as the SDK returned it
      {role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '{"temp_c":21,"sky":"clear"}'},
      {role: 'tool', tool_call_id: msg.tool_calls[1].id, content: '14:05'},
    ]});
  assert.equal(second.choices[0].finish_reason, 'stop');
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.contents, [
    {role: 'user', parts: [{text: 'Weather in Paris?'}]},
    {role: 'model', parts: [{functionCall: {name: 'get_weather', args: {city: 'Paris'}}},
                            {functionCall: {name: 'get_time', args: {tz: 'CET'}}}]},
    {role: 'user', parts: [
      {functionResponse: {name: 'get_weather', response: {temp_c: 21, sky: 'clear'}}},
      {functionResponse: {name: 'get_time', response: {output: '14:05'}}},
    ]},
  ]);
});

test('a tool message whose tool_call_id matches no call is a 400, nothing sent upstream', async () => {
  const m = s.mark();
  let err;
  try {
    await s.client().chat.completions.create({model: MODEL, tools: TOOLS, messages: [
      USER, {role: 'tool', tool_call_id: 'call_nobody', content: 'x'}]});
  } catch (e) { err = e; }
  assert.ok(err instanceof OpenAI.BadRequestError, `${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, 400);
  assert.match(err.param ?? '', /^messages\[1\]/);
  assert.equal(s.upstreamSince(m).length, 0);
});

test('thought signature: returned on the tool call, and sent back upstream on the next turn',
     async () => {
  scriptCall([callPart('get_weather', {city: 'Rome'}, SIG)]);
  const client = s.client();
  const first = await client.chat.completions.create({model: MODEL, messages: [USER], tools: TOOLS});
  const msg = first.choices[0].message;
  const tc = msg.tool_calls[0];
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  assert.ok(tc.id.endsWith(`__thought__${SIG}`), `signature carried in the id: ${tc.id}`);
  assert.equal(tc.extra_content?.google?.thought_signature, SIG);

  // (a) the SDK's message as is; (b) a client that keeps only the standard fields.
  const stripped = {role: 'assistant', content: null, tool_calls: [
    {id: tc.id, type: 'function', function: {name: tc.function.name, arguments: tc.function.arguments}}]};
  for (const [what, assistant] of [['as returned', msg], ['standard fields only', stripped]]) {
    const m = s.mark();
    await client.chat.completions.create({model: MODEL, tools: TOOLS, messages: [
      USER, assistant, {role: 'tool', tool_call_id: tc.id, content: '{"temp_c":25}'}]});
    const contents = s.onlyUpstream(m).json.contents;
    assert.deepEqual(contents[1], {role: 'model', parts: [
      {functionCall: {name: 'get_weather', args: {city: 'Rome'}}, thoughtSignature: SIG}]}, what);
    assert.deepEqual(contents[2], {role: 'user', parts: [
      {functionResponse: {name: 'get_weather', response: {temp_c: 25}}}]}, what);
  }
});

test('the signature also comes back through extra_content alone (Google compat spelling)',
     async () => {
  const m = s.mark();
  await s.client().chat.completions.create({model: MODEL, tools: TOOLS, messages: [
    USER,
    {role: 'assistant', content: 'Let me check.', tool_calls: [{
      id: 'call_plain', type: 'function', function: {name: 'get_weather', arguments: '{"city":"Oslo"}'},
      extra_content: {google: {thought_signature: SIG}}}]},
    {role: 'tool', tool_call_id: 'call_plain', content: 'rainy'}]});
  const contents = s.onlyUpstream(m).json.contents;
  assert.deepEqual(contents[1], {role: 'model', parts: [
    {text: 'Let me check.'},
    {functionCall: {name: 'get_weather', args: {city: 'Oslo'}}, thoughtSignature: SIG}]},
  'assistant text kept before its function call');
  assert.deepEqual(contents[2].parts, [
    {functionResponse: {name: 'get_weather', response: {output: 'rainy'}}}]);
});

test('streamed tool calls: deltas with index/id/name/arguments, finish_reason tool_calls', async () => {
  const ev = (parts, extra = {}) => ({
    candidates: [{content: {role: 'model', parts}, index: 0, ...extra}],
    usageMetadata: {promptTokenCount: 12, totalTokenCount: 12}, modelVersion: MODEL,
    responseId: 'resp-stream-tools'});
  const events = [
    ev([callPart('get_weather', {city: 'Paris'}, SIG)]),
    ev([callPart('get_weather', {city: 'Rome'})]),
    ev([{text: ''}], {finishReason: 'STOP'}),
  ];
  s.fake.script({match: {pathIncludes: ':streamGenerateContent'}, sse: events, intervalMs: 20});
  const m = s.mark();
  const stream = await s.client().chat.completions.create({
    model: MODEL, messages: [USER], tools: TOOLS, stream: true});
  const chunks = await collect(stream);
  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${MODEL}:streamGenerateContent`);
  assert.equal(rec.query.alt, 'sse');

  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id across chunks');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls || []));
  assert.deepEqual(deltas.map((d) => d.index), [0, 1], 'one delta per call, indices across the stream');
  for (const [i, city] of [[0, 'Paris'], [1, 'Rome']]) {
    assert.equal(deltas[i].type, 'function');
    assert.equal(typeof deltas[i].id, 'string');
    assert.equal(deltas[i].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(deltas[i].function.arguments), {city});
  }
  assert.ok(deltas[0].id.endsWith(`__thought__${SIG}`), 'streamed id carries the signature');
  assert.notEqual(deltas[0].id, deltas[1].id);
  const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean);
  assert.deepEqual(finishes, ['tool_calls']);
  assert.equal(chunks.at(-1).choices[0]?.finish_reason, 'tool_calls', 'the last chunk finishes');
});

test('streamed tool calls accumulate correctly in the SDK stream helper; the round trip works',
     async () => {
  s.fake.script({match: {pathIncludes: ':streamGenerateContent'}, sse: [
    {candidates: [{content: {role: 'model', parts: [{text: 'Checking. '}]}, index: 0}]},
    {candidates: [{content: {role: 'model', parts: [callPart('get_weather', {city: 'Nice'}, SIG)]},
                   finishReason: 'STOP', index: 0}],
     usageMetadata: {promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19}},
  ]});
  const client = s.client();
  const runner = client.chat.completions.stream({model: MODEL, messages: [USER], tools: TOOLS});
  const final = await runner.finalChatCompletion();
  const msg = final.choices[0].message;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.content, 'Checking. ');
  assert.equal(msg.tool_calls.length, 1);
  assert.equal(msg.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), {city: 'Nice'});

  const m = s.mark();
  await client.chat.completions.create({model: MODEL, tools: TOOLS, messages: [
    USER,
    {role: 'assistant', content: msg.content, tool_calls: msg.tool_calls.map(
        (t) => ({id: t.id, type: 'function', function: {name: t.function.name, arguments: t.function.arguments}}))},
    {role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '{"temp_c":19}'}]});
  const contents = s.onlyUpstream(m).json.contents;
  assert.deepEqual(contents[1], {role: 'model', parts: [
    {text: 'Checking. '},
    {functionCall: {name: 'get_weather', args: {city: 'Nice'}}, thoughtSignature: SIG}]});
  assert.deepEqual(contents[2].parts, [{functionResponse: {name: 'get_weather', response: {temp_c: 19}}}]);
});
