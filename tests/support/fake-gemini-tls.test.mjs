// Self-test of the stand-in upstream over TLS (startFakeGemini({tls: true}), fake-gemini-tls.mjs):
// what tests/integration/http2-upstream relies on — h2 and HTTP/1.1 by ALPN on one port, the
// certificate verifiable with caFile, the version and session recorded per request, a reset that
// is one stream's RST_STREAM (the session goes on), GOAWAY, a dropped connection, and upload URLs
// naming https.
// Run: node --test tests/support/fake-gemini-tls.test.mjs   (CTest: support.fake_gemini_tls)

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import {startFakeGemini} from './fake-gemini.mjs';
import {genBody, poolKey} from './gateway.mjs';

const KEY = poolKey('Valid');
let fake, ca;
before(async () => {
  fake = await startFakeGemini({tls: true});
  ca = fs.readFileSync(fake.caFile);
});
after(async () => {
  await fake.close();
  assert.equal(fs.existsSync(fake.caFile), false, 'the certificate dir is removed on close');
});
beforeEach(() => fake.reset());

/** An h2 client session to the fake, verifying its certificate. */
function connect() {
  const session = http2.connect(fake.url, {ca});
  session.on('error', () => {});
  return session;
}

/** One request on `session`; resolves to {status, headers, body, error}. */
function h2Request(session, path, {body, headers = {}} = {}) {
  return new Promise((resolve) => {
    const stream = session.request({':method': body ? 'POST' : 'GET', ':path': path,
                                    'x-goog-api-key': KEY, 'content-type': 'application/json',
                                    ...headers});
    const out = {status: 0, headers: {}, body: '', error: null};
    stream.on('response', (h) => { out.status = h[':status']; out.headers = h; });
    stream.setEncoding('utf8');
    stream.on('data', (c) => { out.body += c; });
    stream.on('error', (e) => { out.error = e.code; });
    stream.on('close', () => { out.rstCode = stream.rstCode; resolve(out); });
    stream.end(body);
  });
}

const GEN = '/v1beta/models/gemini-2.5-flash:generateContent';
const SSE = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';

test('h2 by ALPN with a verifiable certificate: requests recorded with version and session', async () => {
  assert.match(fake.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const session = connect();
  try {
    const [a, b] = await Promise.all([h2Request(session, GEN, {body: JSON.stringify(genBody('one'))}),
                                      h2Request(session, GEN, {body: JSON.stringify(genBody('two'))})]);
    assert.equal(a.status, 200, a.body);
    assert.equal(JSON.parse(a.body).candidates[0].content.parts[0].text, 'echo: one');
    assert.equal(b.status, 200);
    const recs = fake.requests();
    assert.deepEqual(recs.map((r) => r.httpVersion), ['2.0', '2.0']);
    assert.equal(recs[0].session, recs[1].session, 'one session');
    const info = fake.sessions().find((x) => x.id === recs[0].session);
    assert.equal(info.httpVersion, '2.0');
    assert.equal(info.streams, 2);
    assert.equal(info.closed, false);
  } finally {
    session.close();
  }
});

test('HTTP/1.1 over TLS on the same port (allowHTTP1), a session of its own', async () => {
  const r = await new Promise((resolve, reject) => {
    const req = https.request(`${fake.url}${GEN}`, {method: 'POST', ca, ALPNProtocols: ['http/1.1'],
                                                    headers: {'x-goog-api-key': KEY}}, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({status: res.statusCode, body}));
    });
    req.on('error', reject);
    req.end(JSON.stringify(genBody('over h1')));
  });
  assert.equal(r.status, 200, r.body);
  const rec = fake.requests().at(-1);
  assert.equal(rec.httpVersion, '1.1');
  assert.ok(rec.session > 0);
  assert.equal(fake.sessions().find((x) => x.id === rec.session).httpVersion, '1.1');
});

test('reset_after on h2 is RST_STREAM on that stream only; its neighbour completes', async () => {
  const session = connect();
  try {
    const [cut, whole] = await Promise.all([
      h2Request(session, SSE, {body: JSON.stringify(genBody('cut [[chunks=5 interval=20 reset_after=2]]'))}),
      h2Request(session, SSE, {body: JSON.stringify(genBody('whole [[chunks=5 interval=20]]'))}),
    ]);
    assert.equal(cut.status, 200);
    assert.equal(cut.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, 'RST_STREAM INTERNAL_ERROR');
    assert.equal((cut.body.match(/^data: /gm) || []).length, 2, 'the 2 events before the reset');
    assert.equal(whole.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    assert.equal((whole.body.match(/^data: /gm) || []).length, 5);
    assert.equal(fake.stats().resets, 1);
    assert.equal(session.closed || session.destroyed, false, 'the session survives');
  } finally {
    session.close();
  }
});

test('goaway() sends GOAWAY and closes every open session', async () => {
  const session = connect();
  const r = await h2Request(session, GEN, {body: JSON.stringify(genBody('x'))});
  assert.equal(r.status, 200);
  const id = fake.requests().at(-1).session;
  const got = new Promise((resolve) => session.once('goaway', (code) => resolve(code)));
  fake.goaway();
  assert.equal(await got, http2.constants.NGHTTP2_NO_ERROR);
  await new Promise((resolve) => session.once('close', resolve));
  await fake.waitFor(() => fake.sessions().find((x) => x.id === id).closed);
});

test('a resumable start over h2 answers an https upload URL on the authority the client named', async () => {
  const session = connect();
  try {
    const r = await h2Request(session, '/upload/v1beta/files', {
      body: JSON.stringify({file: {displayName: 'tls'}}),
      headers: {'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
                'x-goog-upload-header-content-length': '3'},
    });
    assert.equal(r.status, 200, r.body);
    const url = new URL(r.headers['x-goog-upload-url']);
    assert.equal(url.origin, fake.url);
    const done = await h2Request(session, url.pathname + url.search, {
      body: 'abc', headers: {'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0'},
    });
    assert.equal(done.status, 200, done.body);
    const name = JSON.parse(done.body).file.name;
    assert.equal(fake.fileBytes(name).toString(), 'abc');
  } finally {
    session.close();
  }
});

test('dropSessions() closes the connections without GOAWAY', async () => {
  const session = connect();
  const r = await h2Request(session, GEN, {body: JSON.stringify(genBody('x'))});
  assert.equal(r.status, 200);
  const id = fake.requests().at(-1).session;
  let goaway = false;
  session.once('goaway', () => { goaway = true; });
  fake.dropSessions();
  await new Promise((resolve) => session.once('close', resolve));
  assert.equal(goaway, false, 'no GOAWAY: the peer just vanished');
  await fake.waitFor(() => fake.sessions().find((x) => x.id === id).closed);
});
