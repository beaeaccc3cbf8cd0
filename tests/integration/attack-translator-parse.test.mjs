// Round 6's in-situ parse of Gemini events in the OpenAI translator, as a hostile upstream sees
// it: escapes (\u0000, surrogate pairs, lone surrogates, escaped slashes and quotes), huge
// numbers, deep nesting, an event that is not JSON, and events split at every byte. The upstream
// is the byte-exact raw server (tests/support/raw-upstream.mjs). Each case asserts the client's
// stream is valid JSON chunk by chunk and carries exactly the text the events held (what
// JSON.parse reads from them), or ends with a clear error; and the gateway lives on.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {sseEvents} from '../support/gateway.mjs';
import {startRawUpstream, chunked, head, cutAt} from '../support/raw-upstream.mjs';
import {startStack} from '../support/stack.mjs';

let up, s;
before(async () => {
  up = await startRawUpstream();
  s = await startStack({fake: {url: up.url, reset() {}, close() {}}});
});
after(async () => {
  await s?.close();
  await up.close();
});

const SSE = [['content-type', 'text/event-stream'], ['transfer-encoding', 'chunked']];

/** The raw upstream answer for `events` (JSON texts as written), cut at `cuts`. */
function answer(events, cuts = []) {
  const body = Buffer.from(events.map((e) => `data: ${e}\r\n\r\n`).join(''));
  const framed = Buffer.concat([head(200, SSE), chunked(body)]);
  return {pieces: cutAt(framed, cuts), gapMs: cuts.length > 50 ? 0 : 2, framed};
}

/** A streamed OpenAI chat through the gateway; resolves to {status, content, done, errors, raw}. */
async function stream() {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', stream: true, messages: [{role: 'user', content: 'x'}]}),
    signal: AbortSignal.timeout(30000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  let content = '', done = false;
  const errors = [];
  for (const e of out.events) {
    if (e.data === '[DONE]') { done = true; continue; }
    assert.ok(e.json, `every chunk is JSON: ${String(e.data).slice(0, 200)}`);
    if (e.json.error) errors.push(e.json.error);
    for (const c of e.json.choices || []) content += c.delta?.content || '';
  }
  return {status: 200, content, done, errors};
}

const ev = (textJson, extra = '') => `{"candidates":[{"content":{"parts":[{"text":${textJson}}],"role":"model"}}]${extra}}`;
const LAST = `{"candidates":[{"content":{"parts":[{"text":" end"}],"role":"model"},"finishReason":"STOP"}],` +
             `"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3}}`;
const textOf = (events) => events.map((e) => JSON.parse(e).candidates[0].content.parts.map((p) => p.text).join('')).join('');

test('escapes: NUL, surrogate pairs, escaped quotes, slashes and controls reach the client as JSON.parse reads them', async () => {
  const events = [ev('"a\\u0000b"'), ev('"\\ud83d\\ude00 \\uD83D\\uDE00"'), ev('"q\\"\\\\\\/\\b\\f\\n\\r\\t"'),
                  ev('"\\u00e9\\u65e5 é日"'), ev('""'), LAST];
  up.script = () => answer(events);
  const r = await stream();
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.errors, []);
  assert.ok(r.done, 'the stream ends with [DONE]');
  assert.equal(r.content, textOf(events));
});

test('huge numbers and deep nesting in an event: the text is whole or the stream ends with an error, the gateway lives', async () => {
  const cases = {
    'huge integer': ev('"n1"', ',"usageMetadata":{"promptTokenCount":123456789012345678901234567890,"totalTokenCount":1e400}'),
    'huge negative': ev('"n2"', ',"usageMetadata":{"promptTokenCount":-99999999999999999999999,"totalTokenCount":-1e-400}'),
    'deep nesting': ev('"n3"', `,"extra":${'['.repeat(5000)}${']'.repeat(5000)}`),
    'deep objects': ev('"n4"', `,"extra":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`),
  };
  for (const [what, e] of Object.entries(cases)) {
    const events = [ev('"first "'), e, LAST];
    up.script = () => answer(events);
    const r = await stream();
    assert.equal(r.status, 200, `${what}: ${r.text}`);
    assert.ok(r.content.startsWith('first '), `${what}: the event before it is kept`);
    if (r.errors.length === 0) {
      assert.ok(r.done, `${what}: ends with [DONE]`);
      assert.equal(r.content, textOf(events), `${what}: the text is whole`);
    } else {
      assert.ok(r.errors[0].message, `${what}: the error says something`);
    }
  }
  up.script = () => answer([ev('"alive"'), LAST]);
  assert.equal((await stream()).content, 'alive end', 'the gateway lives on');
});

test('an event that is not JSON: a clear error or the good events whole, never a broken chunk', async () => {
  for (const bad of ['{not json}', '{"candidates":[{"content":{"parts":[{"text":"cut', '[1,2]', '"a string"', 'null', '{}']) {
    const events = [ev('"before"'), bad, LAST];
    up.script = () => ({pieces: [Buffer.concat([head(200, SSE), chunked(Buffer.from(events.map((e) => `data: ${e}\r\n\r\n`).join('')))])]});
    const r = await stream();
    assert.equal(r.status, 200, r.text);
    assert.ok(r.content.startsWith('before'), `${bad}: the event before it is kept`);
    assert.ok(r.done || r.errors.length, `${bad}: the stream ends cleanly or with an error`);
  }
});

test('events split at every byte: the same text every time', async () => {
  const events = [ev('"a\\u0000\\ud83d\\ude00\\"q\\""'), ev('"日本語 é"'), LAST];
  const want = textOf(events);
  const {framed} = answer(events);
  const from = framed.indexOf('\r\n\r\n') + 4;
  for (let k = from; k < framed.length; k++) {
    up.script = () => answer(events, [k]);
    const r = await stream();
    assert.equal(r.status, 200);
    assert.equal(r.content, want, `split at ${k}`);
    assert.ok(r.done, `split at ${k}: [DONE]`);
  }
  // And one byte per write.
  up.script = () => answer(events, Array.from({length: framed.length}, (_, i) => i + 1));
  const r = await stream();
  assert.equal(r.content, want, 'one byte at a time');
});
