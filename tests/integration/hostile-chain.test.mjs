// The gateway chain and the translators as a hostile or unlucky client and upstream see them,
// against what round 5 rewrote for speed: the OpenAI translator's per-thread scratch arena (a
// request over its 256 KiB, then small ones; many streams interleaved on one worker) and its
// eight-bytes-at-a-time UTF-8 check (valid multi-byte text and invalid bytes at every position),
// the exchange's arena through failover replays, auth's stack-buffer token hash (tokens of odd
// lengths, non-ASCII bytes), the flat settings table while settings change under traffic, and
// the stored log's v12 partial status index (every status and class still found through the
// admin API; this suite runs on both stores). Each case asserts what a user depends on: the
// answer is whole and correct, or the error is clear; the process survives.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {DEFAULT_CONFIG, buildConfig, generate, poolKey, rawRequest, sseEvents,
        eventually, sleep} from '../support/gateway.mjs';
import {adminStack, api, ok} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

function assertAlive(s, what) {
  if (s.gw.exitInfo) {
    assert.fail(`gemgate died ${what} (${JSON.stringify(s.gw.exitInfo)}); log tail:\n${
        s.gw.logs().slice(-2000)}`);
  }
}

/** POST /v1/chat/completions; `body` an object or raw bytes. Resolves to {status, text, json}. */
async function chat(s, body, {token = s.token} = {}) {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
    body: Buffer.isBuffer(body) ? body : JSON.stringify(body), signal: AbortSignal.timeout(30000)});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, text, json};
}

/** A streamed chat; resolves to {status, content (the deltas joined), chunks, done, errors}. */
async function chatStream(s, content) {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', stream: true, messages: [{role: 'user', content}]}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  const chunks = out.events.filter((e) => e.json?.choices);
  return {
    status: 200,
    complete: out.complete,
    content: chunks.map((e) => e.json.choices[0]?.delta?.content ?? '').join(''),
    finish: chunks.map((e) => e.json.choices[0]?.finish_reason).filter(Boolean),
    errors: out.events.filter((e) => e.json?.error),
    done: out.events.some((e) => e.data === '[DONE]'),
    raw: out.raw,
  };
}

const messageOf = (r) => r.json?.choices?.[0]?.message?.content;

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

/** conf/gemgate.yaml with one worker, so every request shares one thread's scratch arena. */
function oneWorker() {
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  assert.match(text, /^workers: \S+/m);
  return buildConfig({configYaml: text.replace(/^workers: \S+/m, 'workers: 1')});
}

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

/** A streamed Anthropic Messages call; resolves to {status, content, done, errors}. */
async function anthropicStream(s, content) {
  const res = await fetch(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: {'x-api-key': s.token, 'anthropic-version': '2023-06-01',
                              'content-type': 'application/json'},
    body: JSON.stringify({model: 'claude-3-5-haiku-latest', max_tokens: 100, stream: true,
                          messages: [{role: 'user', content}]}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  return {
    status: 200,
    content: out.events.filter((e) => e.json?.type === 'content_block_delta')
                 .map((e) => e.json.delta?.text ?? '').join(''),
    done: out.events.some((e) => e.json?.type === 'message_stop'),
    errors: out.events.filter((e) => e.json?.type === 'error' || e.event === 'error'),
  };
}

/** A streamed Responses API call; resolves to {status, content, done, errors}. */
async function responsesStream(s, input) {
  const res = await fetch(`${s.gw.url}/v1/responses`, {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', stream: true, store: false, input}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  return {
    status: 200,
    content: out.events.filter((e) => e.json?.type === 'response.output_text.delta')
                 .map((e) => e.json.delta ?? '').join(''),
    done: out.events.some((e) => e.json?.type === 'response.completed'),
    errors: out.events.filter((e) => e.json?.type === 'error' || e.json?.type === 'response.failed'),
  };
}

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

// ---------------------------------------------------------------------------------------------
// The exchange's arena through replays

test('failover replays after the arena spilled: a large translated request and a stream survive three attempts', async (t) => {
  const keys = [poolKey('Quota1'), poolKey('Overload1'), poolKey('Valid1')];
  const s = await stack(t, {keys, settings: {max_retries: 3}});
  const big = 'replay ' + 'ü'.repeat(60000);
  for (let i = 0; i < 4; i++) {
    const before = fake.stats().total;
    const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'system', content: 'be brief'},
                                                                    {role: 'user', content: `${i} ${big}`}],
                              temperature: 0.5, max_tokens: 100});
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.ok(messageOf(r) === `echo: ${i} ${big}`, `chat ${i}: the answer is whole`);
    assert.ok(fake.stats().total - before >= 1);
    const st = await chatStream(s, `stream ${i} ${big} [[chunks=4 interval=0]]`);
    assert.ok(st.done && st.errors.length === 0, `stream ${i} ended cleanly`);
    assert.ok(st.content.startsWith(`echo: stream ${i} ${big}`), `stream ${i}: the text is whole`);
    const g = await generate(s.gw, `native ${i} ${big}`, {token: s.token});
    assert.equal(g.status, 200);
    assert.ok(g.json.candidates[0].content.parts[0].text === `echo: native ${i} ${big}`, `native ${i}: whole`);
  }
  // The failing keys were tried (the replays happened), and every answer above was right.
  assert.ok(fake.callsFor(keys[0]) + fake.callsFor(keys[1]) >= 1, 'a replay happened');
  assertAlive(s, 'the replays');
});

test('a chain of 40 filters (far past the arena\'s inline block) replayed over failing keys: every answer right', async (t) => {
  let text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  const many = '  many:\n    errors: google\n    filters:\n      - log: {}\n      - auth:\n' +
               '          sources: [query, goog_header, bearer]\n      - models: {}\n' +
               '      - token_policy: {}\n'.repeat(12) + '      - retry: {}\n' + '      - affinity: {}\n'.repeat(25) +
               '      - keys: {}\n      - upstream:\n          base_url: *google\n\n';
  assert.ok(text.includes('chains:\n') && text.includes('routes:\n'));
  text = text.replace('chains:\n', `chains:\n${many}`)
             .replace('routes:\n', 'routes:\n  - { prefix: /many/, chain: many, strip: /many }\n');
  const keys = [poolKey('Quota4'), poolKey('Overload4'), poolKey('Valid')];
  const s = await stack(t, {keys, settings: {max_retries: 3}, configYaml: buildConfig({configYaml: text})});
  for (let i = 0; i < 8; i++) {
    const r = await generate(s.gw, `many ${i}-${'m'.repeat(i * 3000)}`, {token: s.token, prefix: '/many/v1beta'});
    assert.equal(r.status, 200, r.text.slice(0, 200));
    assert.ok(r.json.candidates[0].content.parts[0].text === `echo: many ${i}-${'m'.repeat(i * 3000)}`, `answer ${i}`);
    const res = await fetch(`${s.gw.url}/many/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST', headers: {'x-goog-api-key': s.token, 'content-type': 'application/json'},
      body: JSON.stringify({contents: [{role: 'user', parts: [{text: `many stream ${i} [[chunks=5 interval=1]]`}]}]})});
    const ev = await sseEvents(res);
    assert.ok(ev.complete && ev.events.length === 5, `stream ${i}: ${ev.events.length} events`);
    assert.ok(ev.events[0].json.candidates[0].content.parts[0].text.startsWith(`echo: many stream ${i}`));
  }
  assert.ok(fake.callsFor(keys[1]) >= 1, 'the failing keys were tried: the chain below retry was replayed');
  assertAlive(s, 'the long chain');
});

// ---------------------------------------------------------------------------------------------
// Affinity's pre-check (one pass over the answer's quotes before any JSON parse)

test('affinity: a created name in any JSON spelling binds its key; broken or tricky answers pass through untouched', async (t) => {
  const s = await stack(t, {keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  const create = async (answerText) => {
    fake.script([{match: {pathIncludes: '/cachedContents', method: 'POST'}, body: answerText}]);
    const r = await fetch(`${s.gw.url}/v1beta/cachedContents`, {
      method: 'POST', headers: {'x-goog-api-key': s.token, 'content-type': 'application/json'},
      body: JSON.stringify({model: 'models/gemini-2.5-flash', ttl: '600s'})});
    return {status: r.status, text: await r.text(), key: fake.requests().at(-1).key};
  };
  // Spellings of {"name": "cachedContents/<id>"} a JSON parser reads alike.
  const spellings = {
    spaces: (id) => `{ "name" : "cachedContents/${id}" , "model" : "models/gemini-2.5-flash" }`,
    newlines: (id) => `{\n\t"model":"models/gemini-2.5-flash",\r\n"name":\n"cachedContents/${id}"\n}`,
    escaped_key: (id) => `{"n\\u0061me":"cachedContents/${id}","model":"models/gemini-2.5-flash"}`,
    escaped_slash: (id) => `{"name":"cachedContents\\/${id}","model":"models/gemini-2.5-flash"}`,
    quote_before: (id) => `{"displayName":"say \\"name\\" twice","name":"cachedContents/${id}"}`,
    last_member: (id) => `{"model":"models/gemini-2.5-flash","usageMetadata":{"totalTokenCount":3},"name":"cachedContents/${id}"}`,
  };
  for (const [how, spell] of Object.entries(spellings)) {
    const id = `aff-${how.replace('_', '-')}`;
    const text = spell(id);
    const made = await create(text);
    assert.equal(made.status, 200, `${how}: ${made.text}`);
    assert.equal(made.text, text, `${how}: the answer passed through byte for byte`);
    fake.createResource({key: made.key, name: `cachedContents/${id}`});
    const before = fake.requests().length;
    for (let i = 0; i < 6; i++) {
      const r = await generate(s.gw, `use ${how} ${i}`, {token: s.token,
                                                        body: {contents: [{role: 'user', parts: [{text: `q ${i}`}]}],
                                                               cachedContent: `cachedContents/${id}`}});
      assert.equal(r.status, 200, `${how}: a call citing it: ${r.text}`);
    }
    const keys = new Set(fake.requests().slice(before).map((x) => x.key));
    assert.deepEqual([...keys], [made.key], `${how}: every call citing it went to the key that made it`);
  }
  // Answers that name nothing parseable: passed through as they came, nothing bound, no crash.
  const broken = ['{"name":"cachedContents/cut', '{"name":', '"name"', '{"na\\u', '{"text":"\\"name\\": \\"cachedContents/fake\\""}',
                  '[{"name":"cachedContents/in-array"}]', '{"name":42}', '{"name":"cachedContents/' + 'z'.repeat(5000) + '"}'];
  for (const text of broken) {
    const made = await create(text);
    assert.equal(made.text, text, `passed through: ${text.slice(0, 60)}`);
    assertAlive(s, `the answer ${text.slice(0, 40)}`);
  }
  // "fake" was only inside a string: citing it is not pinned to any key (the fake then refuses or
  // answers per key; the gateway must not have bound it).
  const r = await generate(s.gw, 'after the broken answers', {token: s.token});
  assert.equal(r.status, 200);
  assertAlive(s, 'the affinity answers');
});

// ---------------------------------------------------------------------------------------------
// Auth's token hash

test('auth: tokens of odd and large lengths and non-ASCII bytes: the right ones pass, the rest get a clear 401', async (t) => {
  const lengths = [8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256];  // 8..256 allowed
  const tokens = lengths.map((n, i) => `t${i}`.padEnd(n, String.fromCharCode(97 + (i % 26))).slice(0, n));
  const s = await stack(t, {tokens});
  for (const token of tokens) {
    const r = await generate(s.gw, `len ${token.length}`, {token});
    assert.equal(r.status, 200, `a ${token.length}-character token: ${r.text}`);
    const wrongs = [token.slice(0, -1), `${token}x`, token.slice(0, -1) + (token.at(-1) === 'z' ? 'y' : 'z')]
                       .filter((w) => w && !tokens.includes(w));
    for (const w of wrongs) {
      const x = await generate(s.gw, 'wrong', {token: w});
      assert.equal(x.status, 401, `a near miss of a ${token.length}-character token: ${x.text}`);
      assert.ok(x.json?.error, 'a JSON error');
    }
  }
  // Very long, non-ASCII and control bytes, raw on the wire.
  const before = fake.stats().total;
  const odd = ['x'.repeat(8000), 'y'.repeat(257), tokens.at(-1) + 'z', 'a'.repeat(7), 'é'.repeat(50), Buffer.from([0xff, 0xfe, 0x80, 0x41]).toString('latin1'),
               'tok\tab', tokens[0] + ' '];
  for (const token of odd) {
    const body = '{"contents":[{"parts":[{"text":"odd"}]}]}';
    const r = await rawRequest(s.gw.port, Buffer.concat([
      Buffer.from('POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\nx-goog-api-key: '),
      Buffer.from(token, 'latin1'),
      Buffer.from(`\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`)]),
      {timeoutMs: 5000});
    const status = r.responses[0]?.status;
    const trimmedValid = token.trim() === tokens[0];
    if (trimmedValid) {
      assert.ok([200, 401].includes(status), `a valid token with trailing space: ${status}`);
    } else {
      assert.ok([400, 401, 431].includes(status), `an odd token (${token.length} chars): ${status} ${r.text.slice(0, 200)}`);
    }
    assertAlive(s, `the odd token of ${token.length} characters`);
  }
  assert.ok(fake.stats().total - before <= 1, 'no odd token reached the upstream');
});

// ---------------------------------------------------------------------------------------------
// Settings changing under traffic (the flat table of handles)

test('settings patched again and again while requests are in flight: every request answered, the last value wins', async (t) => {
  const s = await adminStack(t, fake);
  const inflight = [];
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 6; i++) {
      inflight.push(generate(s.gw, `flight ${round}.${i} [[delay=150]]`, {token: s.token, timeoutMs: 30000})
                        .then((r) => ({r, text: `flight ${round}.${i}`})));
    }
    ok(await api(s, 'PATCH', '/admin/api/settings', {body: {
      max_retries: 1 + (round % 3), cooldown_default_s: 30 + round,
      model_aliases: {[`alias-${round}`]: 'gemini-2.5-flash'}}}));
    await sleep(30);
  }
  for (const {r, text} of await Promise.all(inflight)) {
    assert.equal(r.status, 200, `${text}: ${r.text}`);
    assert.equal(r.json.candidates[0].content.parts[0].text, `echo: ${text}`);
  }
  const last = await generate(s.gw, 'via alias', {token: s.token, model: 'alias-7'});
  assert.equal(last.status, 200, `the last alias applies: ${last.text}`);
  assert.equal(fake.requests().at(-1).model, 'gemini-2.5-flash');
  const old = await generate(s.gw, 'old alias', {token: s.token, model: 'alias-3'});
  assert.notEqual(old.status, 200, 'an alias replaced by a later PATCH is gone');
  const st = ok(await api(s, 'GET', '/admin/api/settings'));
  assert.equal(st.items.find((x) => x.name === 'max_retries')?.value, 1 + (7 % 3));
  assertAlive(s, 'the settings changes');
});

test('SIGHUP reloads (settings defaults, a chain losing a filter) while streams, retries and translations are in flight', async (t) => {
  const base = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  const changed = base.replace(/^  max_retries: 3 /m, '  max_retries: 2 ')
                      .replace('      - token_policy: {}         # the client token', '      # token_policy removed # the client token');
  assert.notEqual(changed, base);
  const s = await stack(t, {keys: [poolKey('Quota2'), poolKey('Valid'), poolKey('Valid')], configYaml: buildConfig({configYaml: base})});
  const hups = (n) => (s.gw.logs().match(/reload: configuration applied/g) || []).length;
  const work = [];
  for (let i = 0; i < 12; i++) {
    work.push(chatStream(s, `reload chat ${i} [[chunks=10 interval=25]]`).then((r) => ({kind: 'openai', i, r})));
    work.push(generate(s.gw, `reload native ${i} [[delay=${100 + i * 20}]]`, {token: s.token, timeoutMs: 30000})
                  .then((r) => ({kind: 'native', i, r})));
  }
  for (let k = 0; k < 6; k++) {
    fs.writeFileSync(s.gw.configPath, k % 2 ? base : changed);
    const before = hups();
    s.gw.proc.kill('SIGHUP');
    await eventually(() => hups() > before, {timeoutMs: 20000, what: `reload ${k}`});
    work.push(generate(s.gw, `between reloads ${k}`, {token: s.token}).then((r) => ({kind: 'between', i: k, r})));
  }
  for (const {kind, i, r} of await Promise.all(work)) {
    if (kind === 'openai') {
      assert.ok(r.done && r.errors.length === 0, `stream ${i} ended cleanly`);
      assert.ok(r.content.startsWith(`echo: reload chat ${i}`), `stream ${i}: ${r.content.slice(0, 80)}`);
    } else {
      assert.equal(r.status, 200, `${kind} ${i}: ${r.text}`);
      assert.ok(r.json.candidates[0].content.parts[0].text.startsWith(`echo: ${kind === 'native' ? 'reload native' : 'between reloads'} ${i}`));
    }
  }
  assertAlive(s, 'the reloads');
});

// ---------------------------------------------------------------------------------------------
// The stored log under the v12 partial status index (both stores)

test('stored log: every status and status class is found through the admin API', async (t) => {
  const s = await adminStack(t, fake, {settings: {max_retries: 1}});
  const codes = [200, 200, 400, 403, 404, 429, 500, 503];
  const want = {};
  for (const code of codes) {
    const r = code === 200 ? await generate(s.gw, 'fine', {token: s.token})
                           : await generate(s.gw, `status [[status=${code}]]`, {token: s.token});
    want[r.status] = (want[r.status] ?? 0) + 1;
  }
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  const count = async (q) => ok(await api(s, 'GET', `/admin/api/logs?kind=request${q}`)).total;
  await eventually(async () => (await count('')) >= total,
                   {timeoutMs: 10000, what: `${total} stored rows (${JSON.stringify(want)})`});
  for (const [status, n] of Object.entries(want)) {
    assert.equal(await count(`&status=${status}`), n, `status=${status}`);
  }
  for (const cls of ['2', '4', '5']) {
    const n = Object.entries(want).filter(([k]) => k.startsWith(cls)).reduce((a, [, v]) => a + v, 0);
    assert.equal(await count(`&status=${cls}xx`), n, `status=${cls}xx`);
  }
  assert.equal(await count('&status=3xx'), 0);
  assert.equal(await count('&status=201'), 0);
  assertAlive(s, 'the log queries');
});

test('stored log: instance and status filters with hostile values find exactly their rows (both stores)', async (t) => {
  const name = 'gw-attack-01';
  const s = await adminStack(t, fake, {env: {GEMGATE_INSTANCE_ID: name}});
  for (let i = 0; i < 3; i++) assert.equal((await generate(s.gw, `inst ${i}`, {token: s.token})).status, 200);
  assert.equal((await generate(s.gw, 'inst err [[status=500]]', {token: s.token})).status >= 500, true);
  const page = async (q) => api(s, 'GET', `/admin/api/logs?kind=request${q}`);
  await eventually(async () => ok(await page('')).total >= 4, {timeoutMs: 10000, what: 'the rows stored'});
  const all = ok(await page(`&instance=${name}&per_page=50`));
  assert.equal(all.total, 4, 'every row names this instance');
  assert.ok(all.items.every((r) => r.instance_id === name));
  assert.equal(ok(await page(`&instance=${name}&status=5xx`)).total, 1);
  assert.equal(ok(await page(`&instance=${name}&status=200`)).total, 3);
  for (const hostile of [`${name}' OR '1'='1`, `${name}%' --`, `${name}"`, '%', '_', `${name.toUpperCase()}`,
                         `${name} `, 'é'.repeat(300)]) {
    const r = await page(`&instance=${encodeURIComponent(hostile)}`);
    assert.ok(r.status === 200 || r.status === 400, `instance=${hostile}: ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status === 200) assert.equal(r.json.total, 0, `instance=${JSON.stringify(hostile)} matches nothing`);
  }
  for (const hostile of ['200 OR 1=1', "200'", '2xx OR 1=1', '-1', '999', '2XX', '']) {
    const r = await page(`&status=${encodeURIComponent(hostile)}`);
    if (r.status === 200) {
      assert.ok(hostile === '' || r.json.total === 0 || hostile === '2XX',
                `status=${JSON.stringify(hostile)}: ${r.json.total} rows`);
    } else {
      assert.equal(r.status, 400, `status=${JSON.stringify(hostile)}: a clear error, ${r.text.slice(0, 200)}`);
    }
  }
  assertAlive(s, 'the hostile filters');
});

// BUG (found by this suite; PostgreSQL only, and before round 5 too): text values lose their NUL
// bytes on PostgreSQL (its text type cannot hold one), silently: a filter `instance=<name>%00`
// lists every row of <name> (SQLite: none), and a token created with the label "team\0x" is
// answered as created with that label but listed afterwards as "teamx". A value a store cannot
// hold should be refused with a clear 400 (or match nothing), the same on both stores. Left as
// `todo` for the storage/admin side (storage/postgres, admin/).
test('a NUL byte in a log filter matches nothing, and in a token label is refused or kept, on either store', {
  todo: 'PostgreSQL drops NUL bytes from text values: instance=<name>%00 lists <name>\'s rows; a label "a\\0b" reads back "ab"',
}, async (t) => {
  const name = 'gw-attack-nul';
  const s = await adminStack(t, fake, {env: {GEMGATE_INSTANCE_ID: name}});
  assert.equal((await generate(s.gw, 'nul', {token: s.token})).status, 200);
  const page = async (q) => api(s, 'GET', `/admin/api/logs?kind=request${q}`);
  await eventually(async () => ok(await page(`&instance=${name}`)).total >= 1, {timeoutMs: 10000, what: 'the row stored'});
  for (const q of [`&instance=${name}%00`, `&instance=%00${name}`, `&model=gemini-2.5-flash%00`]) {
    const r = await page(q);
    assert.ok(r.status === 400 || r.json?.total === 0, `${q}: ${r.status}, ${r.json?.total} rows`);
  }
  const label = 'team\u0000hidden';
  const made = await api(s, 'POST', '/admin/api/tokens', {body: {label}});
  if (made.status === 201) {
    const listed = ok(await api(s, 'GET', '/admin/api/tokens')).items.map((x) => x.label);
    assert.ok(listed.includes(label), `the label kept as created: ${JSON.stringify(listed)}`);
  } else {
    assert.equal(made.status, 400, made.text);
  }
});
