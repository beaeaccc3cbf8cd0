// The upload URL under attack (filters/files): a Host header that is no plain host (userinfo,
// a path, a huge value) is refused before Google; X-Forwarded-Proto is ignored without
// trust_forwarded_proto; a ticket keeps working when percent-escaped, with `key=` smuggled beside
// it (the client's token there is never forwarded; a pool key there is 401, not echoed), and under the other route prefix; a repeated upload_id takes the first;
// a finalized session's URL replayed by another token is 404 and by its own token never lands
// on another key; an upload file created by token A is 404 for token B.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, poolKey, clientToken} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

async function stack(t) {
  const s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')],
                              tokens: [clientToken('a'), clientToken('b')]});
  t.after(() => s.close());
  return s;
}

/** A POST with its target and headers (Host included) sent exactly as written. */
function raw(gw, target, headers, body = Buffer.alloc(0)) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: gw.port, method: 'POST', path: target,
                              headers: {'content-length': body.length, ...headers}, setHost: false}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({status: res.statusCode, headers: res.headers, text, json});
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const startHeaders = (token, host) => ({
  host, 'x-goog-api-key': token, 'content-type': 'application/json',
  'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
  'x-goog-upload-header-content-length': '5', 'x-goog-upload-header-content-type': 'text/plain'});

async function start(s, {token = s.token, host = `127.0.0.1:${s.gw.port}`, extra = {}, prefix = ''} = {}) {
  return raw(s.gw, `${prefix}/upload/v1beta/files`, {...startHeaders(token, host), ...extra},
             Buffer.from(JSON.stringify({file: {displayName: 'x'}})));
}

/** The path and query of a gateway upload URL. */
const targetOf = (url) => { const u = new URL(url); return u.pathname + u.search; };

test('a Host header that is no plain host is refused before Google; a plain one makes the URL', async (t) => {
  const s = await stack(t);
  const before = fake.requests().length;
  for (const host of ['user:pw@127.0.0.1', '127.0.0.1/evil', 'a'.repeat(300), '127.0.0.1?x=1', '127.0.0.1#f']) {
    const r = await start(s, {host});
    assert.equal(r.status, 400, `${host}: ${r.text}`);
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  }
  assert.equal(fake.requests().length, before, 'nothing went upstream');
  const r = await start(s, {host: 'gw.example:8443', extra: {'x-forwarded-proto': 'https'}});
  assert.equal(r.status, 200, r.text);
  const url = r.headers['x-goog-upload-url'];
  assert.ok(url.startsWith('http://gw.example:8443/upload/v1beta/files?upload_id='),
            `X-Forwarded-Proto is not trusted by default: ${url}`);
});

test('a ticket: escaped, beside a smuggled key=, repeated, under the other prefix', async (t) => {
  const s = await stack(t);
  const started = await start(s);
  assert.equal(started.status, 200, started.text);
  const target = targetOf(started.headers['x-goog-upload-url']);
  const id = new URL(started.headers['x-goog-upload-url']).searchParams.get('upload_id');
  const host = `127.0.0.1:${s.gw.port}`;
  const query = (tgt) => raw(s.gw, tgt, {host, 'x-goog-api-key': s.token, 'x-goog-upload-command': 'query'});
  const escaped = id.replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
  const before = fake.requests().length;
  for (const tgt of [target, `/upload/v1beta/files?upload_id=${escaped}&upload_protocol=resumable`,
                     `${target}&key=${s.token}`, `${target}&upload_id=garbage`,
                     `/gemini/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`]) {
    const r = await query(tgt);
    assert.equal(r.status, 200, `${tgt}: ${r.text}`);
    assert.equal(r.headers['x-goog-upload-status'], 'active');
  }
  const sent = fake.requests().slice(before);
  assert.equal(sent.length, 5);
  assert.equal(new Set(sent.map((q) => q.key)).size, 1, 'every call on the session\'s key');
  for (const q of sent) assert.equal(q.query.key, undefined, 'a smuggled key= never reaches Google');
  const poolKeyed = await query(`${target}&key=${s.keys[0]}`);
  assert.equal(poolKeyed.status, 401, 'key= is the client token (read first): a pool key there is no token');
  assert.ok(!poolKeyed.text.includes(s.keys[0]), 'the pool key is not echoed');
  const first = await query(`/upload/v1beta/files?upload_id=garbage&upload_id=${id}`);
  assert.equal(first.status, 404, 'the first upload_id is the one read');
});

test("a finalized session's URL: another token 404, its own token stays on its key; the file is the token's", async (t) => {
  const s = await stack(t);
  const started = await start(s);
  const target = targetOf(started.headers['x-goog-upload-url']);
  const host = `127.0.0.1:${s.gw.port}`;
  const finalize = (token) => raw(s.gw, target, {host, 'x-goog-api-key': token,
    'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0'}, Buffer.from('12345'));
  const done = await finalize(s.token);
  assert.equal(done.status, 200, done.text);
  const owner = fake.requests().at(-1).key;
  const name = done.json.file.name;
  const before = fake.requests().length;
  const stolen = await finalize(s.tokens[1]);
  assert.equal(stolen.status, 404, stolen.text);
  assert.equal(fake.requests().length, before, 'nothing upstream');
  await finalize(s.token);  // Google's answer to a replay, whatever it is, on the same key
  assert.equal(fake.requests().at(-1).key, owner);
  for (const path of [`/v1beta/${name}`, `/download/v1beta/${name}:download?alt=media`]) {
    const theirs = await call(s.gw, path, {token: s.tokens[1]});
    assert.equal(theirs.status, 404, `${path}: ${theirs.text}`);
    const mine = await call(s.gw, path, {token: s.token});
    assert.equal(mine.status, 200, `${path}: ${mine.text}`);
    assert.equal(fake.requests().at(-1).key, owner);
  }
});
