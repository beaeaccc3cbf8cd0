// Keys with policy, end to end: weights (600 calls over weights 1/2/3 land within 5 % of
// 100/200/300), a key's own rpm/tpm (a key at its limit is skipped, not penalised; every key at
// its limit → 429 with Retry-After), a key's own proxy (seen by a loopback forward proxy this
// test runs; the global upstream_proxy for the others; a dead key proxy costs that key only),
// the admin API (PATCH with errors naming the field, bulk import lines with options and errors
// naming the line, GET with the fields and the last minute's usage), the proxy as a write-only
// secret (masked in every answer, never logged), the upstream_proxy setting masked likewise,
// and policies surviving a restart.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, poolKey, call} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, registerSecret, keyOf, gatewayLogs} from './admin-lib.mjs';

/** A forward proxy on 127.0.0.1: records each request (and its key), then passes it on. */
async function startProxy() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({url: req.url, auth: req.headers['proxy-authorization'] || null,
               key: req.headers['x-goog-api-key'] || null});
    let target;
    try { target = new URL(req.url); } catch {
      res.writeHead(400).end('absolute-form target expected');
      return;
    }
    const headers = {...req.headers};
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request({host: target.hostname, port: target.port, method: req.method,
                             path: target.pathname + target.search, headers}, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {seen, port, url: `http://127.0.0.1:${port}`,
          close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); })};
}

/** A port nothing listens on (bound, then closed). */
async function deadPort() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  await new Promise((r) => server.close(r));
  return port;
}

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const patch = (s, id, body) => api(s, 'PATCH', `/admin/api/keys/${id}`, {body});

async function importText(s, text) {
  return api(s, 'POST', '/admin/api/keys', {body: {text}});
}

test('600 calls over weights 1/2/3 land within 5 % of 100/200/300', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  keys.forEach((k) => registerSecret('a pool key', k));
  const s = await adminStack(t, fake, {keys: [poolKey('Valid')]});
  // Bulk import with options; the bootstrap key is removed so only the weighted three serve.
  const r = await importText(s, `${keys[0]},weight=1\n${keys[1]}, weight=2\n${keys[2]},weight=3,note=heavy`);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.added, 3);
  const boot = await keyOf(s, s.keys[0]);
  ok(await api(s, 'DELETE', `/admin/api/keys/${boot.id}`));
  const listed = await Promise.all(keys.map((k) => keyOf(s, k)));
  assert.deepEqual(listed.map((k) => k.weight), [1, 2, 3]);
  assert.equal(listed[2].note, 'heavy');
  for (let i = 0; i < 600; i++) {
    const g = await generate(s.gw, `w ${i}`, {token: s.token});
    assert.equal(g.status, 200, g.text);
  }
  const got = keys.map((k) => s.fake.callsFor(k));
  for (const [i, want] of [[0, 100], [1, 200], [2, 300]]) {
    assert.ok(Math.abs(got[i] - want) <= want * 0.05, `key of weight ${i + 1}: ${got[i]} calls, want ${want} ±5 %`);
  }
});

test('bulk import: plain lines keep working, options are checked, errors name the line and field', async (t) => {
  const s = await adminStack(t, fake);
  const [a, b, c] = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  [a, b, c].forEach((k) => registerSecret('a pool key', k));
  // A line with two plain keys, and a line with options.
  const r = await importText(s, `${a} ${b}\n\n${c},group=paid,rpm=60,tpm=100000,weight=4`);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.added, 3);
  const kc = await keyOf(s, c);
  assert.deepEqual([kc.group, kc.rpm, kc.tpm, kc.weight], ['paid', 60, 100000, 4]);
  assert.equal((await keyOf(s, a)).weight, 1, 'plain lines get the defaults');
  const d = poolKey('Valid');
  registerSecret('a pool key', d);
  for (const [text, re] of [
    [`${d}\n${d},weight=0`, /line 2: weight/],
    [`${d},weight=101`, /line 1: weight/],
    [`${d},wieght=2`, /line 1: wieght: unknown option/],
    [`${d},rpm=-1`, /line 1: rpm/],
    [`${d},proxy=ftp://x`, /line 1: proxy/],
    [`${d},group=has space`, /line 1: group/],
    [`weight=2,${d}`, /line 1: key/],
    [`${d},weight=2,plain`, /line 1: plain/],
  ]) {
    const e = adminError(await importText(s, text), 400, 'text');
    assert.match(e.message, re, text.replace(d, '<key>'));
  }
  // Nothing of a refused import was added.
  assert.equal(ok(await api(s, 'GET', '/admin/api/keys')).total, 4);
  // The list form takes objects with options too; errors name the field.
  const o = await api(s, 'POST', '/admin/api/keys', {body: {keys: [{key: d, weight: 2, group: 'g'}]}});
  assert.equal(o.status, 201, o.text);
  assert.equal((await keyOf(s, d)).group, 'g');
  const e = adminError(await api(s, 'POST', '/admin/api/keys', {body: {keys: [{key: poolKey(), weight: 'x'}]}}),
                       400, 'weight');
  assert.match(e.message, /keys\[0\]: weight/);
});

test('PATCH: every field, validation naming the field, 404, and GET shows the result', async (t) => {
  const s = await adminStack(t, fake);
  const k = await keyOf(s, s.keys[0]);
  for (const f of ['weight', 'group', 'rpm', 'tpm', 'proxy', 'note', 'last_minute']) assert.ok(f in k, f);
  assert.deepEqual([k.weight, k.group, k.rpm, k.tpm, k.proxy, k.note], [1, '', 0, 0, '', '']);
  for (const [body, field] of [
    [{weight: 0}, 'weight'], [{weight: 101}, 'weight'], [{weight: 1.5}, 'weight'], [{weight: '2'}, 'weight'],
    [{rpm: -1}, 'rpm'], [{tpm: 'many'}, 'tpm'], [{group: 'a b'}, 'group'], [{group: 'x'.repeat(65)}, 'group'],
    [{proxy: 'ftp://proxy'}, 'proxy'], [{proxy: 'http://a b'}, 'proxy'], [{proxy: 7}, 'proxy'],
    [{note: 'n'.repeat(501)}, 'note'], [{note: 'bell\u0007'}, 'note'], [{colour: 'red'}, 'colour'],
  ]) {
    adminError(await patch(s, k.id, body), 400, field);
  }
  adminError(await patch(s, k.id, {}), 400);
  adminError(await patch(s, 99999, {weight: 2}), 404);
  const j = ok(await patch(s, k.id, {weight: 5, group: 'paid', rpm: 100, tpm: 2000, note: 'team A'}));
  assert.deepEqual([j.weight, j.group, j.rpm, j.tpm, j.note], [5, 'paid', 100, 2000, 'team A']);
  // A partial PATCH keeps the other fields; null clears one.
  const j2 = ok(await patch(s, k.id, {rpm: null, note: null}));
  assert.deepEqual([j2.weight, j2.group, j2.rpm, j2.note], [5, 'paid', 0, '']);
  const byGroup = ok(await api(s, 'GET', '/admin/api/keys?group=paid'));
  assert.deepEqual(byGroup.items.map((x) => x.id), [k.id]);
  assert.equal(ok(await api(s, 'GET', '/admin/api/keys?group=other')).total, 0);
});

test('a key at its own rpm is skipped, not penalised; all keys at their limit → 429 with Retry-After', async (t) => {
  const [limited, free] = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys: [limited, free]});
  const kl = await keyOf(s, limited);
  const kf = await keyOf(s, free);
  ok(await patch(s, kl.id, {rpm: 2}));
  for (let i = 0; i < 6; i++) assert.equal((await generate(s.gw, `r ${i}`, {token: s.token})).status, 200);
  assert.equal(s.fake.callsFor(limited), 2, 'the limited key served exactly its rpm');
  assert.equal(s.fake.callsFor(free), 4);
  const after = await keyOf(s, limited);
  assert.equal(after.status, 'active', 'skipped, not cooling or disabled');
  assert.equal(after.failures, 0);
  assert.deepEqual(after.last_minute, {requests: 2, tokens: after.last_minute.tokens, rpm: 2, tpm: 0});
  assert.ok(after.last_minute.tokens > 0, 'the answers\' usage was charged');
  // Now both at their limit: the next request is 429 with Retry-After, no upstream call.
  ok(await patch(s, kf.id, {rpm: 4}));
  const before = s.fake.stats().total;
  const r = await generate(s.gw, 'over', {token: s.token});
  assert.equal(r.status, 429, r.text);
  assert.match(r.json.error.message, /rate limits|busy/);
  assert.equal(r.json.error.status, 'RESOURCE_EXHAUSTED');
  const wait = Number(r.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
  assert.equal(s.fake.stats().total, before, 'nothing went upstream');
  // The OpenAI route gives the same answer in its own shape.
  const o = await call(s.gw, '/v1/chat/completions', {token: s.token, via: 'bearer',
    body: {model: 'gemini-2.5-flash', messages: [{role: 'user', content: 'hi'}]}});
  assert.equal(o.status, 429, o.text);
  assert.ok(o.json.error && typeof o.json.error.message === 'string', o.text);
  assert.ok(o.headers.get('retry-after'));
});

test('tpm: the answer\'s tokens count against the key; at its tpm it is skipped', async (t) => {
  const [limited, free] = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys: [limited, free]});
  const kl = await keyOf(s, limited);
  ok(await patch(s, kl.id, {tpm: 1}));
  for (let i = 0; i < 6; i++) assert.equal((await generate(s.gw, `t ${i}`, {token: s.token})).status, 200);
  assert.equal(s.fake.callsFor(limited), 1, 'one answer used the whole tpm');
  assert.equal(s.fake.callsFor(free), 5);
  const k = await keyOf(s, limited);
  assert.ok(k.last_minute.tokens >= 1);
});

test('a key\'s proxy carries its traffic; other keys use the upstream_proxy setting; restart keeps it', async (t) => {
  const own = await startProxy();
  const global = await startProxy();
  t.after(() => own.close());
  t.after(() => global.close());
  const password = 'key-proxy-pass-4242';
  registerSecret('a proxy password', password);
  const proxyUrl = `http://kp:${password}@127.0.0.1:${own.port}`;
  registerSecret('a proxy URL', proxyUrl);
  const [viaOwn, viaGlobal] = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys: [viaOwn, viaGlobal], env: {NO_PROXY: '', no_proxy: ''},
                                       settings: {upstream_proxy: global.url}});
  const k = await keyOf(s, viaOwn);
  const j = ok(await patch(s, k.id, {proxy: proxyUrl}));
  assert.equal(j.proxy, `http://kp:***@127.0.0.1:${own.port}`, 'shown masked');
  for (let i = 0; i < 6; i++) assert.equal((await generate(s.gw, `p ${i}`, {token: s.token})).status, 200);
  const ownCalls = own.seen.filter((c) => c.url.includes(':generateContent'));
  const globalCalls = global.seen.filter((c) => c.url.includes(':generateContent'));
  assert.equal(ownCalls.length, 3);
  assert.ok(ownCalls.every((c) => c.key === viaOwn), 'only that key went through its proxy');
  assert.equal(ownCalls[0].auth, `Basic ${Buffer.from(`kp:${password}`).toString('base64')}`);
  assert.equal(globalCalls.length, 3);
  assert.ok(globalCalls.every((c) => c.key === viaGlobal));
  // Sending the masked form back (an editor saving the form) keeps the real proxy.
  ok(await patch(s, k.id, {proxy: j.proxy, note: 'edited'}));
  own.seen.length = 0;
  await s.gw.restart();
  for (let i = 0; i < 4; i++) assert.equal((await generate(s.gw, `after ${i}`, {token: s.token})).status, 200);
  assert.equal(own.seen.filter((c) => c.key === viaOwn).length, 2, 'the proxy (and its password) survived the restart');
  assert.equal(own.seen[0].auth, `Basic ${Buffer.from(`kp:${password}`).toString('base64')}`);
  const again = await keyOf(s, viaOwn);
  assert.equal(again.note, 'edited');
  assert.equal(again.proxy, `http://kp:***@127.0.0.1:${own.port}`);
  // A verify probe is that key's traffic too: it goes through the key's proxy.
  own.seen.length = 0;
  const v = ok(await api(s, 'POST', `/admin/api/keys/${k.id}/verify`));
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.ok(own.seen.some((c) => c.key === viaOwn), 'the probe went through the key\'s proxy');
  // Cleared: through the global setting like the others.
  ok(await patch(s, k.id, {proxy: ''}));
  own.seen.length = 0;
  for (let i = 0; i < 2; i++) await generate(s.gw, `cleared ${i}`, {token: s.token});
  assert.equal(own.seen.length, 0);
  assert.ok(!gatewayLogs(s).includes(password), 'the proxy password is never logged');
});

test('a dead key proxy costs that key only: no upstream outage, the other key serves', async (t) => {
  const [broken, fine] = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys: [broken, fine], env: {NO_PROXY: '', no_proxy: ''}});
  const k = await keyOf(s, broken);
  ok(await patch(s, k.id, {proxy: `http://127.0.0.1:${await deadPort()}`}));
  for (let i = 0; i < 8; i++) {
    const g = await generate(s.gw, `dead ${i}`, {token: s.token});
    assert.equal(g.status, 200, `request ${i}: ${g.text}`);
  }
  assert.equal(s.fake.callsFor(broken), 0);
  assert.equal(s.fake.callsFor(fine), 8);
  const after = await keyOf(s, broken);
  assert.notEqual(after.status, 'disabled', 'a proxy failure never disables a key');
});

test('the upstream_proxy setting shows its password masked and keeps it when the mask is sent back', async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const password = 'global-proxy-pw-777';
  registerSecret('a proxy password', password);
  const s = await adminStack(t, fake, {env: {NO_PROXY: '', no_proxy: ''}});
  const url = `http://gp:${password}@127.0.0.1:${proxy.port}`;
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {upstream_proxy: url}}));
  const item = ok(await api(s, 'GET', '/admin/api/settings')).items.find((x) => x.name === 'upstream_proxy');
  assert.equal(item.value, `http://gp:***@127.0.0.1:${proxy.port}`);
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {upstream_proxy: item.value}}));
  assert.equal((await generate(s.gw, 'via global', {token: s.token})).status, 200);
  const seen = proxy.seen.filter((c) => c.url.includes(':generateContent'));
  assert.equal(seen.length, 1);
  assert.equal(seen[0].auth, `Basic ${Buffer.from(`gp:${password}`).toString('base64')}`, 'the real password is kept');
  assert.ok(!gatewayLogs(s).includes(password), 'never logged');
});
