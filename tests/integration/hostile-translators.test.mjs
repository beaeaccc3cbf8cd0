// The translators as a hostile or unlucky client and upstream see them, against what round 5
// rewrote for speed: the per-thread scratch arena of the OpenAI, Anthropic and Responses
// translators (requests over its 256 KiB, then small ones; memory over many large ones; many
// streams of all three interleaved on one worker) and the OpenAI translator's eight-bytes-at-a-
// time UTF-8 check (valid multi-byte text and invalid bytes at every position of a chunk, an
// answer and a request, in every dialect). Each case asserts what a user depends on: the answer
// is whole and correct, or the error is clear and in the client's dialect; the process survives.
// It never reaches a store (SQLite only).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {assertAlive} from '../support/hostile-client.mjs';
import {chat, chatStream, messageOf, anthropicStream, responsesStream,
        oneWorker} from '../support/dialect-clients.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

// ---------------------------------------------------------------------------------------------
// The translator's scratch arena

test('openai: a request over the scratch arena\'s 256 KiB, then small ones, alternating: each answer is its own', async (t) => {
  const s = await stack(t, {configYaml: oneWorker()});
  for (let round = 0; round < 3; round++) {
    const big = `big${round} ` + 'lorem ipsum é€😀 '.repeat(20000) + 'end';  // ~400 KiB of JSON
    const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: big}]});
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.ok(messageOf(r) === `echo: ${big}`,
              `round ${round}: the big answer is whole (${messageOf(r)?.length} characters, want ${big.length + 6})`);
    for (let i = 0; i < 3; i++) {
      const small = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: `small ${round}.${i}`}]});
      assert.equal(small.status, 200, small.text);
      assert.equal(messageOf(small), `echo: small ${round}.${i}`);
    }
    const st = await chatStream(s, `${big} [[chunks=3 interval=0]]`);
    assert.equal(st.status, 200, st.text);
    assert.ok(st.done && st.errors.length === 0, `round ${round}: the big stream ended cleanly`);
    assert.ok(st.content.startsWith(`echo: ${big}`),
              `round ${round}: the big stream's text (${st.content.length} characters)`);
    const after = await chatStream(s, `after big ${round} [[chunks=2 interval=0]]`);
    assert.ok(after.content.startsWith(`echo: after big ${round}`), after.content);
    assert.ok(!after.content.includes('lorem'), 'nothing of the big stream leaked into the next');
  }
  assertAlive(s, 'the big requests');
});

test('anthropic and responses: requests over 256 KiB, then small ones, on one worker: each answer is its own', async (t) => {
  const s = await stack(t, {configYaml: oneWorker()});
  const anthropic = async (content) => {
    const res = await fetch(`${s.gw.url}/v1/messages`, {method: 'POST', headers: {'x-api-key': s.token,
      'anthropic-version': '2023-06-01', 'content-type': 'application/json'},
      body: JSON.stringify({model: 'claude-3-5-haiku-latest', max_tokens: 100, messages: [{role: 'user', content}]})});
    const j = await res.json().catch(() => null);
    return {status: res.status, text: j?.content?.map((c) => c.text ?? '').join('')};
  };
  const responses = async (input) => {
    const res = await fetch(`${s.gw.url}/v1/responses`, {method: 'POST', headers: {authorization: `Bearer ${s.token}`,
      'content-type': 'application/json'}, body: JSON.stringify({model: 'gemini-2.5-flash', store: false, input})});
    const j = await res.json().catch(() => null);
    return {status: res.status, text: j?.output?.flatMap((o) => o.content ?? []).map((c) => c.text ?? '').join('')};
  };
  for (const [name, call] of [['anthropic', anthropic], ['responses', responses]]) {
    for (let round = 0; round < 2; round++) {
      const big = `${name} big${round} ` + 'ünïcode text, "quoted" \\ and more '.repeat(12000) + 'end';
      const r = await call(big);
      assert.equal(r.status, 200, `${name} round ${round}`);
      assert.ok(r.text === `echo: ${big}`, `${name} round ${round}: the big answer whole (${r.text?.length} of ${big.length + 6})`);
      for (let i = 0; i < 3; i++) {
        const small = await call(`${name} small ${round}.${i}`);
        assert.equal(small.text, `echo: ${name} small ${round}.${i}`);
      }
    }
  }
  assertAlive(s, 'the big translated requests');
});

test('openai: twenty-six requests over 256 KiB in a row: the scratch arena gives the extra memory back', async (t) => {
  const s = await stack(t, {configYaml: oneWorker()});
  const rss = () => Number(fs.readFileSync(`/proc/${s.gw.proc.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]) / 1024;
  const big = (i) => `big ${i} ` + `{"k": [1, 2, "x\\u00e9"]} `.repeat(25000) + 'end';  // ~700 KiB, many JSON escapes
  const one = async (i) => {
    const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: big(i)}]});
    assert.equal(r.status, 200);
    assert.ok(messageOf(r) === `echo: ${big(i)}`, `answer ${i} whole`);
    const st = await chatStream(s, `${big(i)} [[chunks=2 interval=0]]`);
    assert.ok(st.done && st.content.startsWith(`echo: ${big(i)}`), `stream ${i} whole`);
  };
  for (let i = 0; i < 6; i++) await one(i);  // warm: allocator, pools
  const warm = rss();
  for (let i = 6; i < 26; i++) await one(i);
  const grown = rss() - warm;
  t.diagnostic(`RSS after 6 warm requests ${warm.toFixed(1)} MiB, after 20 more +${grown.toFixed(1)} MiB`);
  assert.ok(grown < 40, `RSS grew by ${grown.toFixed(1)} MiB over 20 requests of ~700 KiB`);
});

test('openai: thirty streams interleaved on one worker each get their own text, in order', async (t) => {
  const s = await stack(t, {configYaml: oneWorker()});
  const n = 30;
  const results = await Promise.all(Array.from({length: n}, (_, i) =>
      chatStream(s, `stream-${i}-${'x'.repeat(i * 37)} [[chunks=8 interval=${5 + (i % 4) * 3}]]`)));
  const solo = await chatStream(s, `stream-solo [[chunks=8 interval=0]]`);
  const suffix = solo.content.slice('echo: stream-solo'.length);  // what the chunks add
  results.forEach((r, i) => {
    assert.equal(r.status, 200, r.text);
    assert.ok(r.done && r.errors.length === 0, `stream ${i} ended cleanly`);
    assert.equal(r.content, `echo: stream-${i}-${'x'.repeat(i * 37)}${suffix}`, `stream ${i}'s text`);
    assert.deepEqual(r.finish, ['stop']);
  });
  assertAlive(s, 'the interleaved streams');
});

test('three translators\' streams interleaved on one worker (one scratch arena) each get their own text', async (t) => {
  const s = await stack(t, {configYaml: oneWorker()});
  const kinds = [['openai', chatStream], ['anthropic', anthropicStream], ['responses', responsesStream]];
  const solo = await chatStream(s, 'solo [[chunks=6 interval=0]]');
  const suffix = solo.content.slice('echo: solo'.length);
  const runs = Array.from({length: 30}, (_, i) => {
    const [kind, fn] = kinds[i % 3];
    const marker = `${kind}-${i}-${'q'.repeat((i * 53) % 700)}`;
    return fn(s, `${marker} [[chunks=6 interval=${4 + (i % 5) * 3}]]`).then((r) => ({r, kind, marker}));
  });
  for (const {r, kind, marker} of await Promise.all(runs)) {
    assert.equal(r.status, 200, `${kind}: ${r.text}`);
    assert.ok(r.done && r.errors.length === 0, `${kind} ${marker.slice(0, 20)}: ended cleanly`);
    assert.equal(r.content, `echo: ${marker}${suffix}`, `${kind}: its own text`);
  }
  assertAlive(s, 'the interleaved translators');
});

// ---------------------------------------------------------------------------------------------
// UTF-8 at every position (the check reads eight bytes at a time)

const TEXT = Buffer.from('abcdefghijklmnopqrstuvwxyz012345');  // 32 bytes: four 8-byte blocks
const withAt = (p, bytes) => Buffer.concat([TEXT.subarray(0, p), bytes, TEXT.subarray(p)]);
const sseEvent = (textBytes, last = false) => Buffer.concat([
  Buffer.from('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"'), textBytes,
  Buffer.from(`"}]},${last ? '"finishReason":"STOP",' : ''}"index":0}]` +
              `${last ? ',"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3}' : ''}}\r\n\r\n`)]);
const jsonAnswer = (textBytes) => Buffer.concat([
  Buffer.from('{"candidates":[{"content":{"role":"model","parts":[{"text":"'), textBytes,
  Buffer.from('"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,' +
              '"candidatesTokenCount":2,"totalTokenCount":3}}')]);
const chatRequest = (contentBytes) => Buffer.concat([
  Buffer.from('{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"'), contentBytes,
  Buffer.from('"}]}')]);

test('openai: valid multi-byte UTF-8 at every position of a chunk, an answer and a request arrives unchanged', async (t) => {
  const s = await stack(t);
  for (const ch of ['é', '€', '😀', '\u2028']) {
    const bytes = Buffer.from(ch);
    for (let p = 0; p <= TEXT.length; p++) {
      const text = withAt(p, bytes);
      const want = text.toString('utf8');
      fake.script([{sse: [{raw: sseEvent(Buffer.from('ok '))}, {raw: sseEvent(text)}, {raw: sseEvent(Buffer.from('!'), true)}]}]);
      const st = await chatStream(s, 'scripted');
      assert.equal(st.content, `ok ${want}!`, `stream, ${JSON.stringify(ch)} at ${p}`);
      assert.ok(st.done && st.errors.length === 0, `stream, ${JSON.stringify(ch)} at ${p}: ended cleanly`);
      fake.script([{sse: [{raw: jsonAnswer(text)}], headers: {'content-type': 'application/json; charset=UTF-8'}}]);
      const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: 'scripted'}]});
      assert.equal(messageOf(r), want, `answer, ${JSON.stringify(ch)} at ${p}: ${r.text.slice(0, 200)}`);
      const q = await chat(s, chatRequest(text));
      assert.equal(q.status, 200, `request, ${JSON.stringify(ch)} at ${p}: ${q.text.slice(0, 200)}`);
      const sent = JSON.parse(fake.requests().at(-1).body).contents.at(-1).parts.map((x) => x.text).join('');
      assert.equal(sent, want, `request, ${JSON.stringify(ch)} at ${p}: what reached the upstream`);
    }
  }
  assertAlive(s, 'multi-byte text');
});

test('openai: invalid UTF-8 at every position: a clear error each time, never a crash or a garbled answer', async (t) => {
  const s = await stack(t);
  const bad = {lone_ff: [0xff], truncated_2: [0xc3], truncated_3: [0xe2, 0x82], surrogate: [0xed, 0xa0, 0x80],
               overlong: [0xc0, 0xaf]};
  for (const [name, seq] of Object.entries(bad)) {
    for (let p = 0; p <= TEXT.length; p++) {
      const text = withAt(p, Buffer.from(seq));
      const where = `${name} at ${p}`;
      // A stream whose second event is broken: the first reached the client, then an error
      // event, then the end.
      fake.script([{sse: [{raw: sseEvent(Buffer.from('ok'))}, {raw: sseEvent(text)}, {raw: sseEvent(Buffer.from('!'), true)}]}]);
      const st = await chatStream(s, 'scripted');
      assert.equal(st.status, 200, `${where}: ${st.text}`);
      assert.equal(st.content, 'ok', `${where}: only the good event's text`);
      assert.equal(st.errors.length, 1, `${where}: one error event: ${st.raw.slice(0, 400)}`);
      assert.equal(st.errors[0].json.error.code, 'bad_upstream_response', where);
      assert.ok(Buffer.from(st.raw).toString('utf8') === st.raw, `${where}: the client got valid UTF-8`);
      // A whole answer: 502 with the reason.
      fake.script([{sse: [{raw: jsonAnswer(text)}], headers: {'content-type': 'application/json; charset=UTF-8'}}]);
      const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: 'scripted'}]});
      assert.equal(r.status, 502, `${where}: ${r.text.slice(0, 200)}`);
      assert.equal(r.json?.error?.code, 'bad_upstream_response', where);
      // A request: 400, and nothing sent upstream.
      const before = fake.stats().total;
      const q = await chat(s, chatRequest(text));
      assert.equal(q.status, 400, `${where}: ${q.text.slice(0, 200)}`);
      assert.match(q.json?.error?.message ?? '', /encoding/i, where);
      assert.equal(fake.stats().total, before, `${where}: the bad request went nowhere`);
    }
  }
  assertAlive(s, 'invalid UTF-8');
});

test('anthropic and responses: invalid UTF-8 at every position gives a clear error in the client\'s dialect, valid UTF-8 out', async (t) => {
  const s = await stack(t);
  const fronts = {
    anthropic: {url: '/v1/messages', headers: {'x-api-key': s.token, 'anthropic-version': '2023-06-01'},
                body: (stream) => ({model: 'claude-3-5-haiku-latest', max_tokens: 50, stream, messages: [{role: 'user', content: 'hi'}]}),
                request: (bytes) => Buffer.concat([Buffer.from('{"model":"claude-3-5-haiku-latest","max_tokens":50,"messages":[{"role":"user","content":"'), bytes, Buffer.from('"}]}')]),
                streamError: (raw) => /event: error\ndata: \{"type":"error"/.test(raw)},
    responses: {url: '/v1/responses', headers: {authorization: `Bearer ${s.token}`},
                body: (stream) => ({model: 'gemini-2.5-flash', stream, store: false, input: 'hi'}),
                request: (bytes) => Buffer.concat([Buffer.from('{"model":"gemini-2.5-flash","store":false,"input":"'), bytes, Buffer.from('"}')]),
                streamError: (raw) => /"type":"(error|response\.failed)"/.test(raw)},
  };
  const post = async (front, body) => {
    const res = await fetch(`${s.gw.url}${front.url}`, {method: 'POST', headers: {...front.headers, 'content-type': 'application/json'},
                                                      body: Buffer.isBuffer(body) ? body : JSON.stringify(body)});
    const bytes = Buffer.from(await res.arrayBuffer());
    return {status: res.status, bytes, text: bytes.toString('utf8')};
  };
  for (const [name, front] of Object.entries(fronts)) {
    for (const seq of [[0xff], [0xe2, 0x82]]) {
      for (let p = 0; p <= TEXT.length; p++) {
        const text = withAt(p, Buffer.from(seq));
        const where = `${name}, ${Buffer.from(seq).toString('hex')} at ${p}`;
        fake.script([{sse: [{raw: sseEvent(Buffer.from('ok'))}, {raw: sseEvent(text)}, {raw: sseEvent(Buffer.from('!'), true)}]}]);
        const st = await post(front, front.body(true));
        assert.equal(st.status, 200, where);
        assert.ok(Buffer.from(st.text).equals(st.bytes), `${where}: the stream is valid UTF-8`);
        assert.ok(front.streamError(st.text), `${where}: the stream ends with an error event: ${st.text.slice(-200)}`);
        fake.script([{sse: [{raw: jsonAnswer(text)}], headers: {'content-type': 'application/json; charset=UTF-8'}}]);
        const whole = await post(front, front.body(false));
        assert.equal(whole.status, 502, `${where}: ${whole.text.slice(0, 200)}`);
        assert.ok(Buffer.from(whole.text).equals(whole.bytes), `${where}: the error is valid UTF-8`);
        const before = fake.stats().total;
        const req = await post(front, front.request(text));
        assert.equal(req.status, 400, `${where}: ${req.text.slice(0, 200)}`);
        assert.match(req.text, /encoding/i, where);
        assert.equal(fake.stats().total, before, `${where}: nothing went upstream`);
      }
    }
  }
  assertAlive(s, 'invalid UTF-8 through anthropic and responses');
});
