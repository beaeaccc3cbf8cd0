// Round 6's 2 KiB libcurl receive buffer for http:// event streams (long_lived) and the usage
// scanner, as a hostile upstream sees them: answers written byte-exact by a raw upstream
// (tests/support/raw-upstream.mjs) in pieces the gateway meets in separate reads. Events far
// larger than the buffer, a long line with no newline, a header block larger than the buffer,
// chunked framing split at every offset, an event stream that turns out to be a JSON error. Each
// case asserts the client gets exactly the bytes the upstream sent (what a direct request would
// get), and that the stored row counts the tokens of the last usageMetadata however it was split.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {genBody, rawRequest} from '../support/gateway.mjs';
import {startRawUpstream, chunked, head, cutAt} from '../support/raw-upstream.mjs';
import {adminStack, api, ok} from './admin-lib.mjs';

let up;
before(async () => { up = await startRawUpstream(); });
after(async () => {
  await shared?.close();
  await up.close();
});

const SSE_HEADERS = [['content-type', 'text/event-stream'], ['transfer-encoding', 'chunked']];

/** A stack whose upstream is the raw server (GOOGLE_API_HOST → up.url); one shared per file. */
let shared = null;
async function stack(t) {
  if (!shared) {
    const holder = {after: () => {}};
    shared = await adminStack(holder, {url: up.url, reset() {}, close() {}});
  }
  return shared;
}

/** One streamGenerateContent?alt=sse on a fresh connection; resolves to the parsed answer. */
async function streamCall(s, text = 'go', {timeoutMs = 30000} = {}) {
  const body = JSON.stringify(genBody(text));
  const bytes = `POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\n` +
                `Host: gw\r\nx-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
                `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  const r = await rawRequest(s.gw.port, bytes, {timeoutMs});
  assert.ok(!r.timedOut, `the answer ended within ${timeoutMs} ms (${r.raw.length} bytes so far)`);
  assert.equal(r.responses.length, 1, `one answer: ${r.text.slice(0, 300)}`);
  return r.responses[0];
}

function sha(b) { return crypto.createHash('sha256').update(b).digest('hex').slice(0, 16); }

/** Asserts two bodies are the same bytes, printing lengths and the first difference only. */
function sameBytes(got, want, what) {
  if (Buffer.compare(got, want) === 0) return;
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  assert.fail(`${what}: got ${got.length} bytes (${sha(got)}), want ${want.length} (${sha(want)}); ` +
              `first difference at ${i}: ${JSON.stringify(got.subarray(i, i + 30).toString('latin1'))} vs ` +
              `${JSON.stringify(want.subarray(i, i + 30).toString('latin1'))}`);
}

/** A Gemini SSE event with `text` and a usage object. */
function event(text, usage) {
  const o = {candidates: [{content: {parts: [{text}], role: 'model'}}]};
  if (usage) o.usageMetadata = usage;
  return `data: ${JSON.stringify(o)}\r\n\r\n`;
}

/** The newest request row. */
async function lastRow(s) {
  return ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=1')).items[0];
}

test('one 1 MiB event, in pieces that split the event and its chunk framing: byte for byte', async (t) => {
  const s = await stack(t);
  const big = event('€'.repeat(350 * 1024), {promptTokenCount: 3, candidatesTokenCount: 9, totalTokenCount: 12});
  const body = Buffer.from(event('first', {promptTokenCount: 3, totalTokenCount: 3}) + big);
  assert.ok(body.length > 1024 * 1024);
  const framed = Buffer.concat([head(200, SSE_HEADERS), chunked(body, 300 * 1024 + 7)]);
  up.script = () => ({pieces: cutAt(framed, [100, 2047, 2049, 4096, 70001, 300 * 1024 + 30, framed.length - 3]), gapMs: 2});
  const res = await streamCall(s);
  assert.equal(res.status, 200);
  sameBytes(res.body, body, 'the 1 MiB event');
  const row = await lastRow(s);
  assert.deepEqual([row.prompt_tokens, row.completion_tokens, row.total_tokens], [3, 9, 12], 'the last usage counts');
});

test('a 100 KB line with no newline, then the end of the stream: every byte reaches the client', async (t) => {
  const s = await stack(t);
  const line = Buffer.from(`data: {"candidates":[{"content":{"parts":[{"text":"${'n'.repeat(100 * 1024)}`);
  for (const framing of ['chunked', 'close']) {
    const framed = framing === 'chunked'
                       ? Buffer.concat([head(200, SSE_HEADERS), chunked(line, 4000)])
                       : Buffer.concat([head(200, [['content-type', 'text/event-stream'], ['connection', 'close']]), line]);
    up.script = () => ({pieces: cutAt(framed, [1, 2048, 2050, 50000]), gapMs: 2, close: framing === 'close'});
    const res = await streamCall(s);
    assert.equal(res.status, 200, framing);
    sameBytes(res.body, line, `the unfinished line (${framing})`);
  }
});

test('a response header block of 6 KiB (three times the receive buffer): the stream is whole', async (t) => {
  const s = await stack(t);
  const filler = Array.from({length: 60}, (_, i) => [`x-goog-filler-${i}`, 'f'.repeat(90)]);
  const body = Buffer.from(event('a', {promptTokenCount: 1, totalTokenCount: 1}) +
                           event('b', {promptTokenCount: 1, candidatesTokenCount: 4, totalTokenCount: 5}));
  const framed = Buffer.concat([head(200, [...filler, ...SSE_HEADERS]), chunked(body)]);
  assert.ok(framed.indexOf('\r\n\r\n') > 6000);
  up.script = () => ({pieces: cutAt(framed, [2047, 2048, 4097, 6001]), gapMs: 2});
  const res = await streamCall(s);
  assert.equal(res.status, 200);
  sameBytes(res.body, body, 'the stream after a 6 KiB head');
  const row = await lastRow(s);
  assert.deepEqual([row.prompt_tokens, row.completion_tokens, row.total_tokens], [1, 4, 5]);
});

test('chunked framing and the usageMetadata key split at every offset: same bytes, same usage', async (t) => {
  const s = await stack(t);
  // Three events; the last one's usage is the answer. The first carries a decoy in its text.
  const body = Buffer.from(
      event('a "usageMetadata": {"totalTokenCount": 999} decoy', {promptTokenCount: 2, totalTokenCount: 2}) +
      event('mid', {promptTokenCount: 2, candidatesTokenCount: 1, totalTokenCount: 3}) +
      event('end', {promptTokenCount: 2, candidatesTokenCount: 5, totalTokenCount: 7}));
  const hd = head(200, SSE_HEADERS);
  const framed = Buffer.concat([hd, chunked(body, 97)]);
  const from = ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=1')).items[0]?.id ?? 0;
  let n = 0;
  for (let k = hd.length - 2; k < framed.length; k++) {
    up.script = () => ({pieces: cutAt(framed, [k]), gapMs: 3});
    const res = await streamCall(s);
    assert.equal(res.status, 200, `split at ${k}`);
    sameBytes(res.body, body, `split at ${k}`);
    n++;
  }
  const rows = [];
  for (let page = 1; rows.length < n; page++) {
    const j = ok(await api(s, 'GET', `/admin/api/logs?kind=request&per_page=100&page=${page}`));
    if (!j.items.length) break;
    rows.push(...j.items.filter((r) => r.id > from));
  }
  assert.equal(rows.length, n, 'one row per stream');
  const wrong = rows.filter((r) => r.prompt_tokens !== 2 || r.completion_tokens !== 5 || r.total_tokens !== 7);
  assert.deepEqual(wrong.map((r) => [r.prompt_tokens, r.completion_tokens, r.total_tokens]), [],
                   'every split counts the last usage');
});

test('an event stream that turns out to be a JSON error: the client gets the same status and bytes', async (t) => {
  const s = await stack(t);
  const error = Buffer.from(JSON.stringify({error: {code: 400, message: `bad ${'request '.repeat(600)}`,
                                                    status: 'INVALID_ARGUMENT'}}, null, 2));
  assert.ok(error.length > 2048);
  const framed = Buffer.concat([head(400, [['content-type', 'application/json; charset=UTF-8'],
                                           ['transfer-encoding', 'chunked']]), chunked(error, 1000)]);
  up.script = () => ({pieces: cutAt(framed, [60, 2048, 3000]), gapMs: 2});
  const res = await streamCall(s);
  assert.equal(res.status, 400);
  assert.match(res.headers['content-type'] || '', /json/);
  sameBytes(res.body, error, 'the JSON error');
});
