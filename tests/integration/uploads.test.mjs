// Uploads through the gateway (filters/files): Google's resumable protocol (start, upload,
// upload + finalize, query) and multipart, the opaque upload URL bound to the key that served
// `start` and to the client token, and every later call of a session on that key (KeyPin).
// The stand-in upstream owns each session and file by key (tests/support/fake-gemini-files.mjs):
// a chunk on another key would be answered 403 there, so a 200 proves the pin; its per-key call
// counts say which key served each call.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {startGroup} from '../support/group.mjs';
import {DEFAULT_CONFIG, poolKey, clientToken, sleep, eventually} from '../support/gateway.mjs';
import {adminStack, api, ok, keyOf, assertNoSecrets, registerSecret} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** conf/gemgate.yaml with the files filter's config replaced by `files` (YAML flow text). */
function configWith(files) {
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  const out = text.replace(/^      - files: \{\}$/m, `      - files: ${files}`);
  assert.notEqual(out, text, 'conf/gemgate.yaml has the files filter in its upload chain');
  return out;
}

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

async function post(url, {token, headers = {}, body}) {
  const h = {...headers};
  if (token) h['x-goog-api-key'] = token;
  const res = await fetch(url, {method: 'POST', headers: h, body, signal: AbortSignal.timeout(15000)});
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { /* empty or not JSON */ }
  return {status: res.status, headers: res.headers, text, json};
}

/** Starts a resumable upload of `size` bytes; returns the answer (its upload URL in .url). */
async function startUpload(s, size, {prefix = '', token = s.token, name = 'doc'} = {}) {
  const r = await post(`${s.gw.url}${prefix}/upload/v1beta/files`, {
    token,
    headers: {'content-type': 'application/json', 'x-goog-upload-protocol': 'resumable',
              'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': String(size),
              'x-goog-upload-header-content-type': 'text/plain'},
    body: JSON.stringify({file: {displayName: name}}),
  });
  r.url = r.headers.get('x-goog-upload-url');
  return r;
}

function send(url, token, command, offset, bytes = Buffer.alloc(0)) {
  const headers = {'x-goog-upload-command': command};
  if (offset !== undefined) headers['x-goog-upload-offset'] = String(offset);
  return post(url, {token, headers, body: bytes});
}

/** The upload id of Google's (the fake's) session behind the last start the fake answered. */
function lastFakeSessionIds() {
  return fake.requests().filter((r) => r.query.upload_id).map((r) => r.query.upload_id);
}

/** The fake's keys that have the file `name` (a direct GET on the fake with each key). */
async function ownersOf(s, name) {
  const owners = [];
  for (const k of s.keys) {
    const r = await fetch(`${fake.url}/v1beta/${name}`, {headers: {'x-goog-api-key': k}});
    await r.arrayBuffer();
    if (r.status === 200) owners.push(k);
  }
  return owners;
}

function callsPerKey(s) {
  return s.keys.map((k) => fake.callsFor(k));
}

test('resumable upload in one chunk: an opaque gateway URL, the file on the key that started it', async (t) => {
  const s = await stack(t, {keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  const data = Buffer.from('hello, gateway upload');
  const started = await startUpload(s, data.length);
  assert.equal(started.status, 200, started.text);
  assert.equal(started.headers.get('x-goog-upload-status'), 'active');
  assert.equal(started.headers.get('x-goog-upload-chunk-granularity'), String(8 * 1024 * 1024));
  const url = new URL(started.url);
  assert.equal(url.origin, s.gw.url, 'the upload URL points at the gateway');
  assert.equal(url.pathname, '/upload/v1beta/files');
  assert.deepEqual([...url.searchParams.keys()].sort(), ['upload_id', 'upload_protocol']);
  assert.ok(!started.url.includes(String(fake.port)), 'no trace of the upstream host');
  for (const id of lastFakeSessionIds()) assert.ok(!started.url.includes(id), "Google's id is sealed");
  for (const k of s.keys) assert.ok(!started.url.includes(k), 'no pool key in the URL');
  assert.equal(started.headers.get('x-goog-upload-control-url'), null);

  const done = await send(started.url, s.token, 'upload, finalize', 0, data);
  assert.equal(done.status, 200, done.text);
  assert.equal(done.headers.get('x-goog-upload-status'), 'final');
  assert.equal(done.json.file.sizeBytes, String(data.length));
  assert.equal(done.json.file.displayName, 'doc');
  assert.match(done.json.file.name, /^files\/\w+$/);
  const calls = callsPerKey(s);
  assert.deepEqual(calls.filter((n) => n > 0), [2], `start and finalize on one key: ${calls}`);
  const owners = await ownersOf(s, done.json.file.name);
  assert.deepEqual(owners, [s.keys[calls.indexOf(2)]], 'the file belongs to the key that served start');
});

test('resumable upload in several chunks with 3 keys: every call of a session on its start key', async (t) => {
  const s = await stack(t, {keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  const chunk = 64 * 1024;
  const sessions = [];
  for (let i = 0; i < 3; i++) {  // round robin: each session starts on another key
    const before = callsPerKey(s);
    const started = await startUpload(s, 3 * chunk + 10, {name: `part-${i}`});
    assert.equal(started.status, 200, started.text);
    const key = callsPerKey(s).findIndex((n, j) => n > before[j]);
    sessions.push({url: started.url, key, bytes: Buffer.alloc(3 * chunk + 10, 97 + i)});
  }
  assert.deepEqual(sessions.map((x) => x.key).sort(), [0, 1, 2], 'the starts went to three keys');
  for (let off = 0; off < 3 * chunk; off += chunk) {  // the sessions' chunks interleaved
    for (const x of sessions) {
      const r = await send(x.url, s.token, 'upload', off, x.bytes.subarray(off, off + chunk));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-goog-upload-status'), 'active');
      assert.equal(r.headers.get('x-goog-upload-size-received'), String(off + chunk));
    }
  }
  for (const x of sessions) {
    const q = await send(x.url, s.token, 'query');
    assert.equal(q.status, 200);
    assert.equal(q.headers.get('x-goog-upload-size-received'), String(3 * chunk));
    const r = await send(x.url, s.token, 'upload, finalize', 3 * chunk, x.bytes.subarray(3 * chunk));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.file.sizeBytes, String(x.bytes.length));
    x.file = r.json.file.name;
  }
  // start + 3 chunks + query + finalize = 6 calls per key, none elsewhere.
  assert.deepEqual(callsPerKey(s), [6, 6, 6]);
  for (const x of sessions) assert.deepEqual(await ownersOf(s, x.file), [s.keys[x.key]]);
});

test('under /gemini the upload URL keeps the prefix the client used', async (t) => {
  const s = await stack(t);
  const started = await startUpload(s, 3, {prefix: '/gemini'});
  assert.equal(started.status, 200, started.text);
  assert.equal(new URL(started.url).pathname, '/gemini/upload/v1beta/files');
  const done = await send(started.url, s.token, 'upload, finalize', 0, Buffer.from('abc'));
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.file.sizeBytes, '3');
  assert.ok(fake.requests().every((r) => !r.path.startsWith('/gemini')), 'Google sees no prefix');
});

test('the upstream dies during a chunk: an error, query tells the offset, the upload resumes there', async (t) => {
  const s = await stack(t);
  const data = Buffer.alloc(3000, 120);
  const started = await startUpload(s, data.length);
  assert.equal((await send(started.url, s.token, 'upload', 0, data.subarray(0, 1000))).status, 200);
  fake.script({match: {pathIncludes: '/upload/'}, reset: true});
  const cut = await send(started.url, s.token, 'upload', 1000, data.subarray(1000, 2000));
  // 502, or 503 when the pool took the reset of its only key for an upstream outage.
  assert.ok([502, 503].includes(cut.status), cut.text);
  assert.equal(cut.json.error.status, 'UNAVAILABLE');
  let q;
  await eventually(async () => {  // past the outage gate's short pause, if it closed
    q = await send(started.url, s.token, 'query');
    return q.status === 200;
  }, {timeoutMs: 10000, intervalMs: 200, what: "the query to answer 200"});
  assert.equal(q.headers.get('x-goog-upload-size-received'), '1000');
  const wrong = await send(started.url, s.token, 'upload', 2000, data.subarray(2000));
  assert.equal(wrong.status, 400, 'a wrong offset is Google\'s 400, passed on');
  assert.equal(wrong.headers.get('x-goog-upload-status'), 'active');
  const rest = await send(started.url, s.token, 'upload, finalize', 1000, data.subarray(1000));
  assert.equal(rest.status, 200, rest.text);
  assert.equal(rest.json.file.sizeBytes, '3000');
});

test('multipart upload: metadata and bytes in one request', async (t) => {
  const s = await stack(t, {keys: [poolKey('Valid'), poolKey('Valid')]});
  const boundary = 'gemgate-test-boundary';
  const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45]);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n` +
                `${JSON.stringify({file: {displayName: 'multi'}})}\r\n--${boundary}\r\n` +
                'Content-Type: application/octet-stream\r\n\r\n'),
    bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const r = await post(`${s.gw.url}/upload/v1beta/files`, {
    token: s.token, body,
    headers: {'x-goog-upload-protocol': 'multipart',
              'content-type': `multipart/related; boundary=${boundary}`}});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.file.sizeBytes, String(bytes.length));
  assert.equal(r.json.file.displayName, 'multi');
  assert.equal((await ownersOf(s, r.json.file.name)).length, 1);
});

test('forged, altered and other tokens\' upload ids: 404 in Google\'s shape, never sent upstream', async (t) => {
  const other = clientToken('other');
  const s = await stack(t, {tokens: [clientToken(), other]});
  const started = await startUpload(s, 5);
  const url = new URL(started.url);
  const id = url.searchParams.get('upload_id');
  const upstreamBefore = fake.stats().total;
  const flipped = id.slice(0, 20) + (id[20] === 'A' ? 'B' : 'A') + id.slice(21);
  const forged = [flipped, id.slice(0, -4), 'AAAA', 'not-base64!', lastFakeSessionIds().at(-1) || 'x',
                  id + 'AA'];
  for (const bad of forged) {
    url.searchParams.set('upload_id', bad);
    const r = await send(url.href, s.token, 'upload, finalize', 0, Buffer.from('12345'));
    assert.equal(r.status, 404, `${bad}: ${r.text}`);
    assert.equal(r.json.error.status, 'NOT_FOUND');
    assert.equal(r.json.error.code, 404);
  }
  const stolen = await send(started.url, other, 'upload, finalize', 0, Buffer.from('12345'));
  assert.equal(stolen.status, 404, 'another client token cannot continue the session');
  assert.equal(fake.stats().total, upstreamBefore, 'none of them reached the upstream');
  const noToken = await send(started.url, undefined, 'query');
  assert.equal(noToken.status, 401, 'the same auth as every native call comes first');
  const mine = await send(started.url, s.token, 'upload, finalize', 0, Buffer.from('12345'));
  assert.equal(mine.status, 200, 'the owner still can');
});

test('an upload command without a session is refused before Google', async (t) => {
  const s = await stack(t);
  const r = await post(`${s.gw.url}/upload/v1beta/files`, {
    token: s.token, body: Buffer.from('x'),
    headers: {'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'upload, finalize',
              'x-goog-upload-offset': '0'}});
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  assert.equal(fake.stats().total, 0);
});

test('an expired upload URL is refused with 404 (session_ttl)', async (t) => {
  const s = await stack(t, {configYaml: configWith('{session_ttl: 1s}')});
  const started = await startUpload(s, 1);
  assert.equal(started.status, 200, started.text);
  await sleep(1300);
  const r = await send(started.url, s.token, 'upload, finalize', 0, Buffer.from('z'));
  assert.equal(r.status, 404, r.text);
  assert.equal(fake.stats().total, 1, 'only the start reached the upstream');
});

test('the session\'s key disabled meanwhile: 409 saying so, no other key; enabled again: resumes', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys});
  const data = Buffer.alloc(2000, 55);
  const started = await startUpload(s, data.length);
  assert.equal((await send(started.url, s.token, 'upload', 0, data.subarray(0, 1000))).status, 200);
  const owner = keys[callsPerKey(s).findIndex((n) => n > 0)];
  const id = (await keyOf(s, owner)).id;
  ok(await api(s, 'POST', `/admin/api/keys/${id}/disable`));
  const before = callsPerKey(s);
  const r = await send(started.url, s.token, 'upload, finalize', 1000, data.subarray(1000));
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.status, 'FAILED_PRECONDITION');
  assert.match(r.json.error.message, /disabled/);
  assert.deepEqual(callsPerKey(s), before, 'no other key was tried');
  ok(await api(s, 'POST', `/admin/api/keys/${id}/enable`));
  const again = await send(started.url, s.token, 'upload, finalize', 1000, data.subarray(1000));
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.file.sizeBytes, '2000');
});

test('secrets stay out of upload answers and the log', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const s = await stack(t, {keys});
  for (const k of keys) registerSecret('a pool key', k);
  registerSecret('a client token', s.token);
  const started = await startUpload(s, 4);
  const done = await send(started.url, s.token, 'upload, finalize', 0, Buffer.from('abcd'));
  assert.equal(done.status, 200);
  for (const r of [started, done]) {
    assertNoSecrets(r.text, 'an upload answer');
    for (const [name, value] of r.headers) assertNoSecrets(value, `header ${name}`);
  }
  await sleep(200);
  assertNoSecrets(s.gw.logs(), 'the gateway log');
});

function multipartBody(boundary, bytes, name = 'big') {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n` +
                `${JSON.stringify({file: {displayName: name}})}\r\n--${boundary}\r\n` +
                'Content-Type: application/octet-stream\r\n\r\n'),
    bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

test("the upload routes stream: 20 MiB passes over limits.max_body_bytes (16 MiB); over the route's own max_body_bytes it is 413 before Google", async (t) => {
  const bytes = Buffer.alloc(20 * 1024 * 1024, 7);
  const headers = {'x-goog-upload-protocol': 'multipart', 'content-type': 'multipart/related; boundary=bb'};
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  assert.match(text, /chain: files_upload, stream_body: true, max_body_bytes: 2GiB/);
  const small = await stack(t, {configYaml: text.replaceAll('stream_body: true, max_body_bytes: 2GiB',
                                                             'stream_body: true, max_body_bytes: 8MiB')});
  const refused = await post(`${small.gw.url}/upload/v1beta/files`,
                             {token: small.token, headers, body: multipartBody('bb', bytes)})
      .catch((e) => ({status: 'reset', text: String(e)}));
  assert.ok(refused.status === 413 || refused.status === 'reset', `${refused.status} ${refused.text}`);
  assert.equal(fake.stats().total, 0);
  await small.close();

  const big = await stack(t);
  const r = await post(`${big.gw.url}/upload/v1beta/files`,
                       {token: big.token, headers, body: multipartBody('bb', bytes)});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.file.sizeBytes, String(bytes.length));
});

test('a group (one master key): a session started on one gateway continues on another; a foreign gateway refuses it', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  const g = await startGroup({fake, n: 2, keys});
  t.after(() => g.close());
  const [A, B] = g.gws;
  const s = {gw: A, token: g.token, keys};
  const data = Buffer.alloc(3000, 9);
  const started = await startUpload(s, data.length);
  assert.equal(started.status, 200, started.text);
  const onB = started.url.replace(A.url, B.url);
  assert.notEqual(onB, started.url);
  assert.equal((await send(onB, g.token, 'upload', 0, data.subarray(0, 1000))).status, 200);
  assert.equal((await send(started.url, g.token, 'upload', 1000, data.subarray(1000, 2000))).status, 200);
  const done = await send(onB, g.token, 'upload, finalize', 2000, data.subarray(2000));
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.file.sizeBytes, '3000');
  const used = callsPerKey(s);
  assert.deepEqual(used.filter((n) => n > 0), [4], `every call on one key: ${used}`);

  // Another gateway, with a master key of its own, cannot open the group's upload ids.
  const other = await startStack({fake: undefined, keys, tokens: [g.token]});
  t.after(() => other.close());
  const foreign = started.url.replace(A.url, other.gw.url);
  const r = await send(foreign, g.token, 'query');
  assert.equal(r.status, 404, r.text);
});
