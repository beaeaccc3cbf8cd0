// Self-test of the stand-in upstream's upload protocols and Files API (fake-gemini-files.mjs):
// the upload suites trust its offsets, its statuses and its ownership checks.
// Run: node --test tests/support/fake-gemini-files.test.mjs   (CTest: support.fake_gemini_files)

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startFakeGemini} from './fake-gemini.mjs';
import {poolKey} from './gateway.mjs';
import {splitMultipart} from './fake-gemini-files.mjs';

let fake;
const A = poolKey('Valid'), B = poolKey('Valid');
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });
beforeEach(() => fake.reset());

async function req(path, {key = A, method = 'POST', headers = {}, body} = {}) {
  const url = path.startsWith('http') ? path : `${fake.url}${path}`;
  const h = {...headers};
  if (key) h['x-goog-api-key'] = key;
  const res = await fetch(url, {method, headers: h, body});
  const buf = Buffer.from(await res.arrayBuffer());
  let json;
  try { json = JSON.parse(buf.toString()); } catch { /* bytes */ }
  return {status: res.status, headers: res.headers, buf, json};
}

async function start(size, {key = A, name = 'f', version = 'v1beta'} = {}) {
  const r = await req(`/upload/${version}/files`, {key, body: JSON.stringify({file: {displayName: name}}),
    headers: {'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
              'x-goog-upload-header-content-length': String(size),
              'x-goog-upload-header-content-type': 'text/plain', 'content-type': 'application/json'}});
  assert.equal(r.status, 200);
  return r.headers.get('x-goog-upload-url');
}

const chunk = (url, command, offset, body = Buffer.alloc(0), key = A) =>
  req(url, {key, body, headers: {'x-goog-upload-command': command,
                                 ...(offset === undefined ? {} : {'x-goog-upload-offset': String(offset)})}});

test('resumable: start, chunks, query, finalize; the file keeps its bytes and its owner', async () => {
  const url = await start(10);
  assert.match(url, new RegExp(`^${fake.url}/upload/v1beta/files\\?upload_id=[\\w-]+&upload_protocol=resumable$`));
  const c1 = await chunk(url, 'upload', 0, Buffer.from('01234'));
  assert.equal(c1.status, 200);
  assert.equal(c1.headers.get('x-goog-upload-status'), 'active');
  assert.equal(c1.headers.get('x-goog-upload-size-received'), '5');
  const q = await chunk(url, 'query');
  assert.equal(q.headers.get('x-goog-upload-size-received'), '5');
  const bad = await chunk(url, 'upload', 3, Buffer.from('zz'));
  assert.equal(bad.status, 400, 'a wrong offset is refused');
  assert.equal(bad.json.error.status, 'INVALID_ARGUMENT');
  const last = await chunk(url, 'upload, finalize', 5, Buffer.from('56789'));
  assert.equal(last.status, 200);
  assert.equal(last.headers.get('x-goog-upload-status'), 'final');
  const file = last.json.file;
  assert.equal(file.sizeBytes, '10');
  assert.equal(file.mimeType, 'text/plain');
  assert.equal(file.displayName, 'f');
  assert.equal(file.sha256Hash, crypto.createHash('sha256').update('0123456789').digest('base64'));
  assert.equal((await chunk(url, 'upload', 10, Buffer.from('x'))).status, 400, 'a final session takes no more');
  const got = await req(`/v1beta/${file.name}`, {method: 'GET'});
  assert.equal(got.status, 200);
  assert.equal(got.json.name, file.name);
  const dl = await req(`/v1beta/${file.name}:download?alt=media`, {method: 'GET'});
  assert.equal(dl.buf.toString(), '0123456789');
  const other = await req(`/v1beta/${file.name}`, {method: 'GET', key: B});
  assert.equal(other.status, 403, 'another key may not see it');
  assert.equal(other.json.error.status, 'PERMISSION_DENIED');
});

test('a session is its key\'s: another key gets 403, an unknown id 404, no key 403', async () => {
  const url = await start(1);
  assert.equal((await chunk(url, 'upload, finalize', 0, Buffer.from('x'), B)).status, 403);
  const unknown = url.replace(/upload_id=[^&]+/, 'upload_id=nope');
  assert.equal((await chunk(unknown, 'query')).status, 404);
  assert.equal((await req(url, {key: null, headers: {'x-goog-upload-command': 'query'}})).status, 403);
  assert.equal((await chunk(url, 'upload, finalize', 0, Buffer.from('x'))).status, 200);
});

test('a finalize whose size differs from the announced one is refused; cancel ends a session', async () => {
  const url = await start(4);
  assert.equal((await chunk(url, 'upload, finalize', 0, Buffer.from('abc'))).status, 400);
  const c = await chunk(url, 'cancel');
  assert.equal(c.headers.get('x-goog-upload-status'), 'cancelled');
  assert.equal((await chunk(url, 'query')).status, 404);
});

test('multipart: metadata and bytes in one request', async () => {
  const body = Buffer.from('--b1\r\nContent-Type: application/json\r\n\r\n{"file":{"displayName":"m"}}\r\n' +
                           '--b1\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--b1--\r\n');
  const r = await req('/upload/v1beta/files', {body, headers: {'x-goog-upload-protocol': 'multipart',
                                                              'content-type': 'multipart/related; boundary=b1'}});
  assert.equal(r.status, 200);
  assert.equal(r.json.file.mimeType, 'image/png');
  assert.equal(r.json.file.sizeBytes, '7');
  assert.equal(splitMultipart(Buffer.from('--b\r\nX: 1\r\n\r\nno end'), 'b'), null);
  const bad = await req('/upload/v1beta/files', {body: 'x', headers: {'x-goog-upload-protocol': 'multipart',
                                                                      'content-type': 'text/plain'}});
  assert.equal(bad.status, 400);
});

test('list pages through the key\'s own files only; delete removes one', async () => {
  const names = [];
  for (let i = 0; i < 5; i++) {
    const url = await start(1, {name: `n${i}`});
    names.push((await chunk(url, 'upload, finalize', 0, Buffer.from('x'))).json.file.name);
  }
  const theirs = await start(1, {key: B});
  await chunk(theirs, 'upload, finalize', 0, Buffer.from('y'), B);
  const listed = [];
  let token = '';
  for (let page = 0; page < 10; page++) {
    const r = await req(`/v1beta/files?pageSize=2${token ? `&pageToken=${token}` : ''}`, {method: 'GET'});
    assert.equal(r.status, 200);
    listed.push(...(r.json.files || []).map((f) => f.name));
    if (!r.json.nextPageToken) break;
    token = r.json.nextPageToken;
  }
  assert.deepEqual(listed.slice().sort(), names.slice().sort());
  assert.equal((await req(`/v1beta/${names[0]}`, {method: 'DELETE', key: B})).status, 403);
  assert.equal((await req(`/v1beta/${names[0]}`, {method: 'DELETE'})).status, 200);
  assert.equal((await req(`/v1beta/${names[0]}`, {method: 'GET'})).status, 403, 'gone (Google does not say which)');
});

test('uploads count as calls of their key, as every call does', async () => {
  const url = await start(1, {key: B});
  await chunk(url, 'upload, finalize', 0, Buffer.from('z'), B);
  assert.equal(fake.callsFor(B), 2);
  assert.equal(fake.callsFor(A), 0);
});

test('[[reset_chunk=N]] in the displayName resets that upload call once, without counting it', async () => {
  const url = await start(6, {name: 'x [[reset_chunk=1]]'});
  assert.equal((await chunk(url, 'upload', 0, Buffer.from('abc'))).status, 200);
  await assert.rejects(chunk(url, 'upload, finalize', 3, Buffer.from('def')));
  assert.equal((await chunk(url, 'query')).headers.get('x-goog-upload-size-received'), '3');
  const done = await chunk(url, 'upload, finalize', 3, Buffer.from('def'));
  assert.equal(done.status, 200);
  assert.equal(done.json.file.sizeBytes, '6');
});
