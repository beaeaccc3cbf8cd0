// Regression tests for review findings in the OpenAI route (fixed in 2e275f1):
//  2. SSRF: an image_url pointing at the gateway's own network is refused, whatever the spelling
//     of the address (decimal, short, hex, IPv4-mapped IPv6, localhost) — the local server must
//     see no request and nothing goes upstream. With openai_fetch_private_urls the image is
//     fetched and inlined, but a text document is refused and never reaches the model.
//  4. a streamed chat whose upstream stream ends without a single answer event (only
//     usageMetadata, or nothing at all) gets a prompt, complete error answer instead of hanging.
// The SSRF tests and the usageMetadata-only stream fail against the code before the fix; the
// empty stream and the include_usage variant guard the same promise from other sides.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns/promises';
import http from 'node:http';
import os from 'node:os';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call} from '../support/gateway.mjs';

// A 1x1 PNG.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6' +
                'kgAAAABJRU5ErkJggg==';
const PNG = Buffer.from(PNG_B64, 'base64');
const SECRET = 'SECRET-7f3a9c-internal-only';

let fake, local;
before(async () => {
  fake = await startFakeGemini();
  local = await startLocalServer();
});
after(async () => {
  await fake.close();
  await local.close();
});

/**
 * A server on this machine standing for the gateway's private network: /x.png is an image,
 * /secret.txt a text/plain document. Listens on every address (IPv4 and IPv6 when available) so
 * that any spelling of "this host" would reach it. Records every request.
 */
async function startLocalServer() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push({url: req.url, at: Date.now(), remote: req.socket.remoteAddress});
    if (req.url.startsWith('/secret')) {
      res.writeHead(200, {'content-type': 'text/plain',
                          'content-length': Buffer.byteLength(SECRET)});
      return res.end(SECRET);
    }
    res.writeHead(200, {'content-type': 'image/png', 'content-length': PNG.length});
    res.end(PNG);
  });
  await new Promise((resolve, reject) => {
    server.once('error', () => {  // no IPv6: IPv4 only
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    server.listen({port: 0, host: '::', ipv6Only: false}, resolve);
  });
  return {port: server.address().port, hits,
          close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); })};
}

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

function chat(s, body, timeoutMs = 15000) {
  return call(s.gw, '/v1/chat/completions', {token: s.token, via: 'bearer', body, timeoutMs});
}

function imageChat(url) {
  return {model: 'gemini-2.5-flash', messages: [{role: 'user', content: [
    {type: 'text', text: 'what is in this picture?'},
    {type: 'image_url', image_url: {url}},
  ]}]};
}

function assertOpenAIError(r, status) {
  assert.equal(r.status, status, `want ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  const e = r.json?.error;
  assert.ok(e && typeof e === 'object', `OpenAI error body: ${r.text.slice(0, 300)}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  assert.ok('param' in e && 'code' in e, `param and code present: ${r.text}`);
  return e;
}

// ---------------------------------------------------------------------------------------------
// 2. SSRF through OpenAI image URLs

test('2: image URLs on this host are refused in every spelling; nothing is fetched or sent',
     async (t) => {
  const s = await stack(t);
  const p = local.port;
  const urls = [
    `http://127.0.0.1:${p}/x.png`,
    `http://2130706433:${p}/x.png`,
    `http://127.1:${p}/x.png`,
    `http://0x7f000001:${p}/x.png`,
    `http://[::ffff:127.0.0.1]:${p}/x.png`,
    `http://[::ffff:7f00:1]:${p}/x.png`,
    `http://localhost:${p}/x.png`,
    `http://LocalHost.:${p}/x.png`,
    `http://[::1]:${p}/x.png`,
    `http://0.0.0.0:${p}/x.png`,
    `http://user@127.0.0.1:${p}/x.png`,
  ];
  // A DNS name for this machine (from /etc/hosts here): only the connect-time check can catch it.
  const self = await dns.lookup(os.hostname()).catch(() => null);
  if (self && /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|f[cd])/.test(self.address)) {
    urls.push(`http://${os.hostname()}:${p}/x.png`);
  }
  const problems = [];  // every spelling is checked, and every one that gets through is named
  for (const url of urls) {
    const hitsBefore = local.hits.length, upBefore = s.fake.stats().total;
    const r = await chat(s, imageChat(url));
    const bad = [];
    try {
      assertOpenAIError(r, 400);
    } catch (e) {
      bad.push(`answered ${r.status}: ${r.text.slice(0, 120)}`);
    }
    if (local.hits.length !== hitsBefore) bad.push('the local server was fetched');
    if (s.fake.stats().total !== upBefore) bad.push('a request went upstream');
    if (bad.length) problems.push(`${url}: ${bad.join('; ')}`);
  }
  assert.deepEqual(problems, [], 'no image URL on this host may be fetched');
  assert.equal(local.hits.length, 0);
  assert.equal(s.fake.stats().total, 0);
});

test('2: with openai_fetch_private_urls a local PNG is inlined, a text document is refused',
     async (t) => {
  const s = await stack(t, {settings: {openai_fetch_private_urls: true}});
  const p = local.port;

  const hitsBefore = local.hits.length;
  const r = await chat(s, imageChat(`http://127.0.0.1:${p}/x.png`));
  assert.equal(r.status, 200, `the image is fetched: ${r.text.slice(0, 300)}`);
  assert.equal(local.hits.length, hitsBefore + 1, 'fetched once');
  const up = s.fake.requests();
  assert.equal(up.length, 1);
  assert.ok(up[0].body.includes(PNG_B64), 'the PNG bytes are inlined (base64) upstream');
  assert.ok(up[0].body.includes('image/png'), 'with their type');

  s.fake.reset();
  const r2 = await chat(s, imageChat(`http://127.0.0.1:${p}/secret.txt`));
  const e = assertOpenAIError(r2, 400);
  assert.match(e.message, /not an image/i);
  assert.ok(!r2.text.includes(SECRET), 'the document is not echoed to the client');
  assert.equal(s.fake.stats().total, 0, 'nothing went upstream');
  const b64 = Buffer.from(SECRET).toString('base64');
  for (const q of s.fake.requests()) {
    assert.ok(!q.body.includes(SECRET) && !q.body.includes(b64),
              'the document never reaches the model');
  }
});

// ---------------------------------------------------------------------------------------------
// 4. An OpenAI stream that ends without an answer

/** Sends a streamed chat with a 5 s cap; resolves to {status, text, json, ms} or {hung: true}. */
async function streamChat(s, extra = {}) {
  const t0 = Date.now();
  const body = {model: 'gemini-2.5-flash', stream: true,
                messages: [{role: 'user', content: 'say something'}], ...extra};
  try {
    const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
      method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000),
      headers: {'authorization': `Bearer ${s.token}`, 'content-type': 'application/json'},
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return {status: res.status, type: res.headers.get('content-type'), text, json,
            ms: Date.now() - t0};
  } catch (e) {
    return {hung: true, error: String(e.cause?.code || e.name || e), ms: Date.now() - t0};
  }
}

const USAGE_ONLY = [{
  usageMetadata: {promptTokenCount: 4, candidatesTokenCount: 0, totalTokenCount: 4},
  modelVersion: 'gemini-2.5-flash',
  responseId: 'usage-only',
}];

for (const [what, sse] of [['only usageMetadata', USAGE_ONLY], ['no event at all', []]]) {
  test(`4: an upstream stream with ${what} → a prompt, complete OpenAI error, no hang`,
       async (t) => {
    const s = await stack(t);
    // Every attempt gets the same empty stream (whether or not the gateway retries it).
    s.fake.script({match: {pathIncludes: 'streamGenerateContent'}, sse, times: 10});
    const r = await streamChat(s);
    assert.ok(!r.hung, `the answer must complete within 5 s (${r.error} after ${r.ms} ms)`);
    assert.ok(r.status >= 500 && r.status <= 599,
              `an HTTP error (e.g. 502), not a ${r.status}: ${r.text.slice(0, 300)}`);
    assert.match(r.type || '', /json/, 'a JSON error body, not an event stream');
    const e = assertOpenAIError(r, r.status);
    assert.ok(!/usage-only/.test(e.message));
    assert.ok(s.fake.stats().total >= 1);
  });
}

test('4: the same with stream_options.include_usage ends promptly and completely', async (t) => {
  const s = await stack(t);
  s.fake.script({match: {pathIncludes: 'streamGenerateContent'}, sse: USAGE_ONLY, times: 10});
  const r = await streamChat(s, {stream_options: {include_usage: true}});
  assert.ok(!r.hung, `the answer must complete within 5 s (${r.error} after ${r.ms} ms)`);
  if (r.status === 200) {
    // A stream that went out must end like an OpenAI stream does.
    assert.match(r.text, /data: \[DONE\]\s*$/, `a complete stream: ${r.text.slice(-300)}`);
  } else {
    assert.ok(r.status >= 500 && r.status <= 599, `${r.status}: ${r.text.slice(0, 300)}`);
    assertOpenAIError(r, r.status);
  }
});
