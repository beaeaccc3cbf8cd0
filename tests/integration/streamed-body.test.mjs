// Streamed request bodies (issue 11): on a route with `stream_body: true` the body flows from the
// client to the upstream transfer as it arrives, with backpressure both ways, under the route's
// own limit; the head filters decide before a byte of it moves. Each case is one way this can go
// wrong: a fast client and a slow upstream (memory stays bounded), a slow client (the body rate
// still applies), a client that resets, an upstream that dies or answers early, a body over the
// limit, pipelining, Expect: 100-continue, and retries before and after body bytes went out.
// The upstream is scripted per test (tests/support/scripted-upstream.mjs).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import http from 'node:http';
import {fileURLToPath} from 'node:url';
import {startGateway, poolKey, clientToken, rawRequest, httpRequest, patternPieces, eventually, sleep}
    from '../support/gateway.mjs';
import {startScriptedUpstream, drainAndAnswer, answerAtOnce, dieAfter} from '../support/scripted-upstream.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const KEYS = [poolKey('StreamA'), poolKey('StreamB')];
const TOKEN = clientToken('streamer');
const MiB = 1024 * 1024;

// The default configuration with two streamed routes of the test's own, and a body rate check
// that a trickling client fails within seconds.
function configYaml() {
  let text = fs.readFileSync(path.join(here, '../../conf/gemgate.yaml'), 'utf8');
  text = text.replace(/^routes:\n/m, 'routes:\n' +
      '  - { prefix: /bulk/, chain: gemini, stream_body: true, max_body_bytes: 256MiB }\n' +
      '  - { prefix: /small/bulk/, chain: gemini, strip: /small, stream_body: true, max_body_bytes: 1MiB }\n');
  text = text.replace(/^  min_body_rate: .*$/m, '  min_body_rate: 1KiB');
  text = text.replace(/^  body_rate_window: .*$/m, '  body_rate_window: 1s');
  return text;
}

let up, gw;
before(async () => {
  up = await startScriptedUpstream();
  gw = await startGateway({env: {API_KEYS: KEYS.join(','), ALLOWED_TOKENS: TOKEN},
                           upstream: up.url, configYaml: configYaml()});
});
after(async () => {
  await gw?.dispose();
  await up?.close();
});

function sha256Of(size) {
  const h = crypto.createHash('sha256');
  for (const p of patternPieces(size)) h.update(p);
  return h.digest('hex');
}

// Uploads `size` bytes (patternPieces) with Content-Length, or chunked with `chunked`, honouring
// the socket's backpressure (httpRequest). Returns {status, json, text, headers} or {status: 0,
// error}; `abortAfter` destroys the request after that many bytes.
function upload(urlPath, size, opts = {}) {
  return uploadTo(gw.port, urlPath, size, opts);
}
function uploadTo(port, urlPath, size, {chunked = false, token = TOKEN, headers = {}, abortAfter} = {}) {
  const h = {'content-type': 'application/octet-stream', 'x-goog-api-key': token, ...headers};
  if (!chunked) h['content-length'] = String(size);
  return httpRequest(port, 'POST', urlPath, {body: patternPieces(size), headers: h, abortAfter});
}

function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))[1]) * 1024;
  return {rss: kb('VmRSS'), peak: kb('VmHWM')};
}

test('64 MiB to a slow upstream: arrives intact, gateway memory grows far less than the body', async () => {
  up.script = drainAndAnswer({pauseMs: 5, everyBytes: 512 * 1024});
  const before = rssOf(gw.proc.pid);
  const size = 64 * MiB;
  const r = await upload('/bulk/v1beta/files', size);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.bytes, size);
  assert.equal(r.json.sha256, sha256Of(size));
  const growth = rssOf(gw.proc.pid).peak - before.rss;
  assert.ok(growth < size / 4, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB for a 64 MiB body`);
  const seen = up.seen.at(-1);
  assert.equal(seen.headers['content-length'], String(size), 'Content-Length passed on');
});

test('a chunked body streams through intact (chunked upstream too)', async () => {
  up.script = drainAndAnswer();
  const size = 5 * MiB + 123;
  const r = await upload('/bulk/v1beta/files', size, {chunked: true});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.bytes, size);
  assert.equal(r.json.sha256, sha256Of(size));
});

test('auth refuses from the head: 401, and not a byte reaches the upstream', async () => {
  const before = up.seen.length;
  const r = await rawRequest(gw.port,
      'POST /bulk/v1beta/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n' +
      'Expect: 100-continue\r\n\r\n', {responses: 1, timeoutMs: 3000});
  assert.equal(r.responses[0]?.status, 401, r.text.slice(0, 300));
  assert.doesNotMatch(r.text, /100 Continue/, 'no 100 Continue for a request refused at its head');
  assert.equal(up.seen.length, before);
});

test('Content-Length over the route limit: 413 at the head, nothing sent upstream', async () => {
  const before = up.seen.length;
  const r = await rawRequest(gw.port,
      `POST /small/bulk/v1beta/files HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\n` +
      `Content-Length: ${2 * MiB}\r\n\r\n`, {responses: 1, timeoutMs: 3000});
  assert.equal(r.responses[0]?.status, 413, r.text.slice(0, 300));
  assert.match(r.responses[0].body.toString(), /1048576/);
  assert.equal(up.seen.length, before);
});

test('the route limit is its own: 20 MiB passes a streamed route although limits.max_body_bytes is 16 MiB', async () => {
  up.script = drainAndAnswer();
  const r = await upload('/bulk/v1beta/files', 20 * MiB);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.bytes, 20 * MiB);
});

test('a chunked body crossing the route limit: 413 (or close), the upstream transfer is cut', async () => {
  up.script = drainAndAnswer();
  const before = up.seen.length;
  const r = await upload('/small/bulk/v1beta/files', 3 * MiB, {chunked: true});
  assert.ok(r.status === 413 || r.status === 0, `413 or a cut connection, got ${r.status} ${r.text ?? r.error}`);
  await eventually(() => up.seen.length === before || up.seen.at(-1).aborted,
                   {what: 'the upstream transfer to be cut'});
  if (up.seen.length > before) assert.ok(!up.seen.at(-1).complete, 'the upstream never got a whole body');
});

test('client resets mid-body: the upstream transfer is cancelled, the exchange logged as 499', async () => {
  up.script = drainAndAnswer();
  const before = up.seen.length;
  const r = await upload('/bulk/v1beta/files?case=reset', 32 * MiB, {abortAfter: 4 * MiB});
  assert.equal(r.status, 0);
  await eventually(() => up.seen.length > before && up.seen.at(-1).aborted,
                   {what: 'the upstream request to be aborted'});
  assert.equal(up.seen.at(-1).complete, false);
  await eventually(() => /499/.test(gw.logs().split('\n').filter((l) => l.includes('case=reset') ||
                                                                       l.includes('/bulk/v1beta/files')).join('\n')),
                   {what: 'a 499 access line', timeoutMs: 5000});
});

test('upstream dies mid-body: the client gets 502 in the Google shape and the connection closes', async () => {
  up.script = dieAfter(2 * MiB);
  const r = await upload('/bulk/v1beta/files', 32 * MiB);
  assert.equal(r.status, 502, r.text ?? r.error);
  assert.equal(r.json?.error?.code, 502);
  assert.equal(r.headers.connection, 'close');
});

test('upstream answers early (400 before the body is done): the client gets it, connection closes', async () => {
  up.script = answerAtOnce(400, {error: {code: 400, message: 'bad upload', status: 'INVALID_ARGUMENT'}});
  const r = await upload('/bulk/v1beta/files', 32 * MiB);
  assert.equal(r.status, 400, r.text ?? r.error);
  assert.equal(r.json?.error?.message, 'bad upload');
  assert.equal(r.headers.connection, 'close');
});

test('a pipelined request after a streamed body is answered after it, in order', async () => {
  up.script = drainAndAnswer();
  const body = 'x'.repeat(100000);
  const r = await rawRequest(gw.port,
      `POST /bulk/v1beta/files HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}` +
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', {responses: 2, timeoutMs: 5000});
  assert.equal(r.responses.length, 2, r.text.slice(0, 500));
  assert.equal(r.responses[0].status, 200);
  assert.equal(JSON.parse(r.responses[0].body.toString()).bytes, body.length);
  assert.equal(r.responses[1].status, 200);
});

test('Expect: 100-continue: 100 Continue once the head passed, then the answer', async () => {
  up.script = drainAndAnswer();
  const body = 'y'.repeat(5000);
  const head = `POST /bulk/v1beta/files HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\n` +
               `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
  const r = await rawRequest(gw.port, [head, body], {responses: 1, gapMs: 200, timeoutMs: 5000});
  assert.match(r.text, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
  assert.equal(r.responses[0]?.status, 200, r.text.slice(0, 300));
  assert.equal(JSON.parse(r.responses[0].body.toString()).bytes, body.length);
});

test('a client trickling the body is cut by the body rate check (408), also on a streamed route', async () => {
  up.script = drainAndAnswer();
  const head = `POST /bulk/v1beta/files HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\n` +
               'Content-Length: 100000\r\n\r\n';
  const parts = [head, ...Array.from({length: 12}, () => 'z'.repeat(10))];
  const r = await rawRequest(gw.port, parts, {responses: 1, gapMs: 300, timeoutMs: 8000});
  assert.equal(r.responses[0]?.status, 408, r.text.slice(0, 300));
  await eventually(() => up.seen.at(-1).aborted, {what: 'the upstream transfer to be cut'});
});

test('a 429 answered at once fails over to another key, the small body sent again whole', async () => {
  const keysSeen = [];
  up.script = (req, res, info) => {
    keysSeen.push(info.key);
    if (keysSeen.length === 1) {
      answerAtOnce(429, {error: {code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED'}})(req, res, info);
      return;
    }
    drainAndAnswer()(req, res, info);
  };
  const size = 20000;
  const r = await upload('/bulk/v1beta/files', size);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.sha256, sha256Of(size), 'the second attempt got the whole body');
  assert.equal(keysSeen.length, 2);
  assert.notEqual(keysSeen[0], keysSeen[1], 'another key');
});

test('no replay once body bytes beyond the replay prefix went upstream: the failure stands', async () => {
  let calls = 0;
  up.script = (req, res, info) => {
    calls++;
    dieAfter(3 * MiB)(req, res, info);
  };
  const r = await upload('/bulk/v1beta/files', 16 * MiB);
  assert.equal(r.status, 502, r.text ?? r.error);
  assert.equal(calls, 1, 'a single attempt');
  await eventually(() => /not retrying .*streamed body already went upstream/.test(gw.logs()),
                   {what: 'the log saying why there was no retry'});
});

test('many uploads at once stay within max_buffered_body_bytes: each streamed one reserves ~1 MiB, then 503', async () => {
  // A gateway of its own with a 2 MiB budget: one streamed upload fits, a second does not.
  let text = configYaml().replace(/^  max_buffered_body_bytes: .*$/m, '  max_buffered_body_bytes: 2MiB');
  const small = await startGateway({env: {API_KEYS: KEYS.join(','), ALLOWED_TOKENS: TOKEN},
                                    upstream: up.url, configYaml: text});
  try {
    let release;
    const held = new Promise((r) => { release = r; });
    up.script = (req, res, info) => { held.then(() => drainAndAnswer()(req, res, info)); };
    const before = up.seen.length;
    const first = uploadTo(small.port, '/bulk/v1beta/files', 4 * MiB);
    await eventually(() => up.seen.length > before, {what: 'the first upload to reach the upstream'});
    const second = await uploadTo(small.port, '/bulk/v1beta/files', 4 * MiB);
    assert.equal(second.status, 503, second.text ?? second.error);
    assert.ok(second.headers['retry-after']);
    release();
    const r1 = await first;
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.json.bytes, 4 * MiB);
    // The reservation is given back: the next upload fits again.
    up.script = drainAndAnswer();
    const third = await uploadTo(small.port, '/bulk/v1beta/files', 1 * MiB);
    assert.equal(third.status, 200, third.text);
  } finally {
    await small.dispose();
  }
});

test('buffered prompts count against max_buffered_body_bytes until their stream starts, not for its whole life', async () => {
  // A 1 MiB budget and 300 KB prompts: three fit while the upstream thinks (a fourth gets 503),
  // and six streams run at once once each has started, where all six were held to the end before.
  const text = configYaml().replace(/^  max_buffered_body_bytes: .*$/m, '  max_buffered_body_bytes: 1MiB');
  const own = await startGateway({env: {API_KEYS: KEYS.join(','), ALLOWED_TOKENS: TOKEN},
                                  upstream: up.url, configYaml: text});
  const prompt = JSON.stringify({contents: [{role: 'user', parts: [{text: 'p'.repeat(300 * 1000)}]}]});
  let thinking = true;
  let finish;
  const finished = new Promise((r) => { finish = r; });
  const waiting = [];
  const streams = [];
  up.script = (req, res, info) => {
    req.on('data', (c) => { info.bytes += c.length; });
    req.on('end', () => {
      info.complete = true;
      const answer = () => {
        res.writeHead(200, {'content-type': 'text/event-stream'});
        res.write('data: {"candidates":[{"content":{"parts":[{"text":"one"}]}}]}\r\n\r\n');
        finished.then(() => res.end('data: {"candidates":[{"content":{"parts":[{"text":"two"}]}}]}\r\n\r\n'));
      };
      if (thinking) waiting.push(answer); else answer();
    });
  };
  const ask = () => new Promise((resolve) => {
    const req = http.request({host: '127.0.0.1', port: own.port, method: 'POST', agent: false,
                              path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
                              headers: {'x-goog-api-key': TOKEN, 'content-type': 'application/json',
                                        'content-length': Buffer.byteLength(prompt)}});
    const got = {status: 0, text: '', first: null};
    got.first = new Promise((firstEvent) => {
      req.on('response', (res) => {
        got.status = res.statusCode;
        res.setEncoding('utf8');
        res.on('data', (c) => { got.text += c; if (got.text.includes('"one"')) firstEvent(); });
        res.on('end', () => { firstEvent(); resolve(got); });
      });
    });
    req.on('error', (e) => { got.error = e.code; resolve(got); });
    req.end(prompt);
    streams.push(got);
  });
  try {
    // While the upstream thinks, the bodies are held: three fit, the fourth is refused.
    const held = [ask(), ask(), ask()];
    await eventually(() => waiting.length === 3, {what: 'three prompts at the upstream'});
    const refused = await ask();
    assert.equal(refused.status, 503, refused.text ?? refused.error);
    assert.match(refused.text, /holding too many request bodies/);
    // Their streams start: the budget is theirs no more, so three more run beside them.
    thinking = false;
    for (const answer of waiting.splice(0)) answer();
    await Promise.all(streams.slice(0, 3).map((s) => s.first));
    const more = [];
    for (let i = 0; i < 3; i++) {
      more.push(ask());
      await streams.at(-1).first;  // each stream starts (and gives its share back) before the next
    }
    assert.ok(streams.slice(4).every((s) => s.status === 200), 'the later streams were admitted');
    finish();
    for (const r of [...(await Promise.all(held)), ...(await Promise.all(more))]) {
      assert.equal(r.status, 200, r.text ?? r.error);
      assert.match(r.text, /"one"[\s\S]*"two"/);
    }
  } finally {
    finish();
    await own.dispose();
  }
});
