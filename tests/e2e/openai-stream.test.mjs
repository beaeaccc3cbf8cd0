// End to end with the official OpenAI Node SDK: streamed chat completions through gemgate (Gemini
// streamGenerateContent?alt=sse → OpenAI chat.completion.chunk SSE). Checks the chunk sequence the
// SDK's async iterator yields (one id, role first, content deltas, a separate finish chunk, one
// usage chunk only when asked), the raw bytes (the stream ends with data: [DONE]) and what the
// upstream received; and that an upstream error mid-stream makes the SDK iterator throw, with no
// [DONE] on the wire. Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, recordingFetch, collect, sseData, sseEvents,
        PREFIXES} from './openai-support.mjs';

let OpenAI, s;
before(async () => {
  OpenAI = await loadOpenAI();
  s = await openaiStack();
});
after(async () => { await s?.close(); });
beforeEach(() => s.fake.reset());

const MODEL = 'gemini-2.5-flash';
const STREAM_PATH = `/v1beta/models/${MODEL}:streamGenerateContent`;

const contentOf = (chunks) =>
  chunks.map((c) => c.choices.map((ch) => ch.delta?.content ?? '').join('')).join('');
const finishesOf = (chunks) =>
  chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f != null);

/** Checks the invariants every successful stream has; returns the raw SSE data lines. */
async function assertWellFormed(chunks, rf, {model = MODEL} = {}) {
  assert.ok(chunks.length >= 3, `role, content and finish chunks (got ${chunks.length})`);
  const ids = new Set(chunks.map((c) => c.id));
  assert.equal(ids.size, 1, `one id across all chunks: ${[...ids]}`);
  assert.match(chunks[0].id, /^chatcmpl-./);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, model);
    assert.equal(c.created, chunks[0].created, 'same created on every chunk');
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first chunk carries the role');
  const roles = chunks.flatMap((c) => c.choices.filter((ch) => ch.delta?.role).map((ch) => ch.index));
  assert.equal(roles.length, new Set(roles).size, 'the role is sent once per choice');
  const entry = rf.log.at(-1);
  assert.equal(entry.status, 200);
  assert.match(entry.headers.get('content-type'), /^text\/event-stream/);
  const data = sseData(await entry.raw);
  assert.equal(data.at(-1), '[DONE]', 'the stream ends with data: [DONE]');
  assert.equal(data.filter((d) => d === '[DONE]').length, 1);
  assert.equal(data.length - 1, chunks.length, 'the SDK yielded every event before [DONE]');
  return data;
}

test('stream without include_usage: role, content deltas, finish chunk, no usage, [DONE]', async () => {
  const rf = recordingFetch();
  const m = s.mark();
  const stream = await s.client({fetch: rf}).chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'stream me [[chunks=4 interval=40]]'}],
    stream: true});
  const chunks = await collect(stream);
  await assertWellFormed(chunks, rf);
  assert.equal(contentOf(chunks), 'echo: stream me #1 #2 #3');
  const contentChunks = chunks.filter((c) => c.choices[0]?.delta?.content);
  assert.equal(contentChunks.length, 4, 'one content delta per upstream event');
  assert.deepEqual(finishesOf(chunks), ['stop'], 'exactly one finish_reason');
  const last = chunks.at(-1);
  assert.equal(last.choices[0].finish_reason, 'stop');
  assert.ok(!last.choices[0].delta.content, 'the finish chunk has an empty delta');
  assert.ok(chunks.every((c) => c.usage == null), 'no usage anywhere when not asked for');
  assert.ok(chunks.every((c) => c.choices.length === 1));

  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, STREAM_PATH);
  assert.equal(rec.query.alt, 'sse');
  assert.deepEqual(rec.json.contents,
                   [{role: 'user', parts: [{text: 'stream me [[chunks=4 interval=40]]'}]}]);
  // The client's request said stream: true; that is an OpenAI field, not a Gemini one.
  assert.equal(rec.json.stream, undefined);
  assert.equal(rec.json.stream_options, undefined);
});

test('stream with include_usage: exactly one usage chunk (choices []), last, with the final usage',
     async () => {
  const u = (p, c, t, extra = {}) => ({promptTokenCount: p, candidatesTokenCount: c,
                                       totalTokenCount: t, ...extra});
  const ev = (text, usage, finishReason) => ({
    candidates: [{content: {role: 'model', parts: [{text}]}, index: 0,
                  ...(finishReason ? {finishReason} : {})}],
    usageMetadata: usage, modelVersion: MODEL, responseId: 'resp-usage'});
  s.fake.script({match: {pathIncludes: ':streamGenerateContent'}, intervalMs: 20, sse: [
    ev('Hel', u(7, 1, 8)),
    ev('lo', u(7, 2, 9)),
    ev(' world', u(7, 5, 16, {thoughtsTokenCount: 4}), 'STOP'),
  ]});
  const rf = recordingFetch();
  const m = s.mark();
  const stream = await s.client({fetch: rf}).chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'count my tokens'}], stream: true,
    stream_options: {include_usage: true}});
  const chunks = await collect(stream);
  s.onlyUpstream(m);
  await assertWellFormed(chunks, rf);
  assert.equal(contentOf(chunks), 'Hello world');
  const withUsage = chunks.filter((c) => c.usage != null);
  assert.equal(withUsage.length, 1, 'exactly one usage chunk');
  const uc = withUsage[0];
  assert.equal(uc, chunks.at(-1), 'the usage chunk is the last before [DONE]');
  assert.deepEqual(uc.choices, []);
  assert.equal(uc.usage.prompt_tokens, 7);
  assert.equal(uc.usage.completion_tokens, 5 + 4, 'candidates + thoughts of the LAST event');
  assert.equal(uc.usage.total_tokens, 16);
  assert.equal(uc.usage.completion_tokens_details?.reasoning_tokens, 4);
  const beforeUsage = chunks.at(-2);
  assert.equal(beforeUsage.choices[0].finish_reason, 'stop', 'finish chunk right before usage');
  assert.deepEqual(finishesOf(chunks), ['stop']);
  // OpenAI: "All other chunks will also include a usage field, but with a null value."
  const data = sseData(await rf.log.at(-1).raw).slice(0, -1).map((d) => JSON.parse(d));
  assert.ok(data.slice(0, -1).every((c) => 'usage' in c && c.usage === null),
            'every other chunk carries "usage": null');
});

test('stream_options.include_usage with the unscripted upstream: usage matches the fake\'s count',
     async () => {
  const stream = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'abcdefgh [[chunks=3 interval=10]]'}],
    stream: true, stream_options: {include_usage: true}});
  const chunks = await collect(stream);
  assert.equal(contentOf(chunks), 'echo: abcdefgh #1 #2');
  const usage = chunks.filter((c) => c.usage).map((c) => c.usage);
  assert.equal(usage.length, 1);
  // prompt "abcdefgh [[chunks=3 interval=10]]" = 33 chars → 9; reply 20 chars → 5.
  assert.deepEqual([usage[0].prompt_tokens, usage[0].completion_tokens, usage[0].total_tokens],
                   [9, 5, 14]);
});

test('chunks reach the SDK as the upstream produces them (not buffered)', async () => {
  const stream = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'slowly [[chunks=5 interval=200]]'}],
    stream: true});
  const arrivals = [];
  for await (const c of stream) if (c.choices[0]?.delta?.content) arrivals.push(Date.now());
  assert.equal(arrivals.length, 5);
  assert.ok(arrivals.at(-1) - arrivals[0] >= 600,
            `content spread over ${arrivals.at(-1) - arrivals[0]} ms (upstream: 800 ms)`);
});

test('a blocked prompt streams role, finish_reason content_filter, then [DONE]', async () => {
  const rf = recordingFetch();
  const chunks = await collect(await s.client({fetch: rf}).chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'bad [[block]]'}], stream: true}));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(contentOf(chunks), '');
  assert.deepEqual(finishesOf(chunks), ['content_filter']);
  const data = sseData(await rf.log.at(-1).raw);
  assert.equal(data.at(-1), '[DONE]');
});

test('an upstream error event mid-stream: the SDK iterator throws after the first deltas', async () => {
  const m = s.mark();
  const stream = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'break [[chunks=4 error_after=2 interval=20]]'}],
    stream: true});
  const got = [];
  let err;
  try {
    for await (const c of stream) got.push(c);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the iterator threw');
  assert.ok(err instanceof OpenAI.APIError, `an APIError (${err?.constructor?.name}: ${err?.message})`);
  assert.match(err.message, /internal error/i, 'the upstream message reaches the client');
  assert.equal(err.type, 'server_error');
  assert.equal(contentOf(got), 'echo: break #1', 'the deltas before the error were delivered');
  assert.deepEqual(finishesOf(got), [], 'no fake finish_reason before the error');
  assert.equal(s.upstreamSince(m).length, 1, 'a stream that has started is not retried');
});

test('an upstream error event mid-stream on the wire: data: {"error":…}, no [DONE]', async () => {
  const res = await fetch(s.url('/v1/chat/completions'), {
    method: 'POST',
    headers: {'content-type': 'application/json', authorization: `Bearer ${s.token}`},
    body: JSON.stringify({model: MODEL, stream: true, messages: [
      {role: 'user', content: 'break [[chunks=4 error_after=2 interval=20]]'}]}),
  });
  assert.equal(res.status, 200);
  const out = await sseEvents(res);
  const data = out.events.map((e) => e.data);
  assert.ok(!data.includes('[DONE]'), `no [DONE] after an error: ${data.join(' | ')}`);
  const last = out.events.at(-1).json;
  assert.ok(last?.error, `the last event is an error: ${out.events.at(-1).data}`);
  assert.equal(typeof last.error.message, 'string');
  assert.equal(last.error.type, 'server_error');
  assert.equal(out.events.filter((e) => e.json?.error).length, 1, 'one error event');
});

test('an upstream error as the FIRST stream event → an HTTP 5xx error, not a 200 stream',
     async () => {
  // An error as the first event, with nothing sent yet, is answered as an HTTP error.
  // As an HTTP 503 the SDK raises InternalServerError (and its own retries apply); a 200 stream
  // whose only event is an error gives an APIError without a status.
  s.fake.script({match: {pathIncludes: ':streamGenerateContent'}, sse: [
    {error: {code: 503, message: 'The model is overloaded. Please try again later.',
             status: 'UNAVAILABLE'}}]});
  let err;
  try {
    await collect(await s.client().chat.completions.create({
      model: MODEL, messages: [{role: 'user', content: 'x'}], stream: true}));
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OpenAI.APIError, `${err?.constructor?.name}: ${err?.message}`);
  assert.match(err.message, /overloaded/);
  assert.ok(err instanceof OpenAI.InternalServerError,
            `an HTTP error before any chunk (got ${err.constructor.name}, status ${err.status})`);
  assert.equal(err.status, 503);
});

test('n=2 streamed: per-choice role, content and finish chunks, one id', async () => {
  const cand = (index, text, finishReason) => ({
    content: {role: 'model', parts: [{text}]}, index, ...(finishReason ? {finishReason} : {})});
  s.fake.script({match: {pathIncludes: ':streamGenerateContent'}, sse: [
    {candidates: [cand(0, 'zero-a'), cand(1, 'one-a')]},
    {candidates: [cand(0, ' zero-b', 'STOP'), cand(1, ' one-b', 'MAX_TOKENS')],
     usageMetadata: {promptTokenCount: 2, candidatesTokenCount: 8, totalTokenCount: 10}},
  ]});
  const m = s.mark();
  const rf = recordingFetch();
  const chunks = await collect(await s.client({fetch: rf}).chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'two'}], n: 2, stream: true}));
  assert.equal(s.onlyUpstream(m).json.generationConfig.candidateCount, 2);
  await assertWellFormed(chunks, rf);
  const byIndex = {0: '', 1: ''};
  const finish = {};
  const roles = {};
  for (const c of chunks) {
    for (const ch of c.choices) {
      byIndex[ch.index] += ch.delta?.content ?? '';
      if (ch.delta?.role) roles[ch.index] = (roles[ch.index] || 0) + 1;
      if (ch.finish_reason) {
        assert.equal(finish[ch.index], undefined, `one finish for choice ${ch.index}`);
        finish[ch.index] = ch.finish_reason;
      }
    }
  }
  assert.deepEqual(byIndex, {0: 'zero-a zero-b', 1: 'one-a one-b'});
  assert.deepEqual(finish, {0: 'stop', 1: 'length'});
  assert.deepEqual(roles, {0: 1, 1: 1});
});

test('a client that stops reading mid-stream (break) makes the gateway abort the upstream', async () => {
  const stream = await s.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'long [[chunks=30 interval=100]]'}],
    stream: true});
  let seen = 0;
  for await (const c of stream) {
    if (c.choices[0]?.delta?.content && ++seen === 2) break;  // the SDK aborts its request
  }
  const st = await s.fake.waitFor((x) => x.aborted >= 1 && x.active === 0, 3000);
  assert.equal(st.aborted, 1, 'the upstream stream was cut, not read to the end');
  assert.ok(st.abortedEvents[0].chunksSent < 30, `stopped early (${st.abortedEvents[0].chunksSent} sent)`);
});

test('eight concurrent streams each get their own id and their own content', async () => {
  const client = s.client();
  const runs = await Promise.all(Array.from({length: 8}, async (_, i) => collect(
      await client.chat.completions.create({
        model: MODEL, messages: [{role: 'user', content: `par ${i} [[chunks=4 interval=30]]`}],
        stream: true}))));
  const ids = runs.map((chunks) => {
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    return chunks[0].id;
  });
  assert.equal(new Set(ids).size, 8, 'distinct ids across streams');
  runs.forEach((chunks, i) => assert.equal(contentOf(chunks), `echo: par ${i} #1 #2 #3`));
});

test('streams work on all three route prefixes', async () => {
  for (const prefix of PREFIXES) {
    const rf = recordingFetch();
    const chunks = await collect(await s.client({prefix, fetch: rf}).chat.completions.create({
      model: MODEL, messages: [{role: 'user', content: `p ${prefix} [[chunks=2 interval=5]]`}],
      stream: true}));
    await assertWellFormed(chunks, rf);
    assert.equal(contentOf(chunks), `echo: p ${prefix} #1`, prefix);
  }
});
