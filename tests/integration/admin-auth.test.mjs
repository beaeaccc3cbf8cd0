// Admin API authentication matrix (hardening T39): every route of admin/README.md (one table,
// ROUTES in admin-lib.mjs) is called with no credentials, a wrong bearer, a client token (as
// bearer and as x-goog-api-key), the admin token in the query (?token=, ?key=), Basic auth, the
// admin token as a cookie value, an unknown session — all refused with no data and no effect —
// and with the admin bearer and a session cookie, which succeed. Then path tricks over raw
// sockets, spoofed Host / X-Forwarded-For, CORS, unknown routes and body limits.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, poolKey, collectGatewayLogs, rawRequest} from '../support/gateway.mjs';
import {adminStack, api, raw, ok, adminError, ROUTES, documentedRoutes, loginCookie, login,
        newAdminToken, addKeys, createToken, allKeys, registerSecret, assertNoSecrets,
        scannedCount, eventually} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

test('the route table covers every route documented in admin/README.md', () => {
  const table = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
  const documented = documentedRoutes();
  assert.ok(documented.length >= 18, `README parsed: ${documented.join(', ')}`);
  const missing = documented.filter((r) => !table.has(r));
  assert.deepEqual(missing, [], 'routes documented in admin/README.md but missing from ROUTES');
});

/** Credentials that must never open an admin route. */
function deniedModes(s) {
  const wrong = newAdminToken('wrong');
  return {
    'no credentials': {},
    'a wrong bearer': {headers: {authorization: `Bearer ${wrong}`}},
    'a client token as bearer': {headers: {authorization: `Bearer ${s.token}`}},
    'a client token as x-goog-api-key': {headers: {'x-goog-api-key': s.token}},
    'the admin token in ?token=': {query: `token=${encodeURIComponent(s.adminToken)}`},
    'the admin token in ?key=': {query: `key=${encodeURIComponent(s.adminToken)}`},
    'the admin token as Basic auth': {
      headers: {authorization: `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}`}},
    'the admin token without "Bearer "': {headers: {authorization: s.adminToken}},
    'the admin token as the cookie value': {headers: {cookie: `gemgate_session=${s.adminToken}`}},
    'an unknown session id': {headers: {cookie: 'gemgate_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}},
  };
}

const PAGE_LOGIN = '/admin/login';
const isNoCredential = (h) => !h.authorization;

test('auth matrix: only the admin bearer and a session cookie open an admin route', async (t) => {
  const s = await adminStack(t, fake, {keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  // Some proxied traffic, so the request log is not empty (a refused DELETE /logs must keep it).
  assert.equal((await generate(s.gw, 'matrix', {token: s.token})).status, 200);
  const keys = await allKeys(s);
  const ctx = {keyId: keys[0].id, victimKeyId: keys[1].id,
               tokenId: (await createToken(s, {label: 'matrix-victim'})).id};
  await eventually(async () => (await api(s, 'GET', '/admin/api/logs')).json?.total >= 1,
                   {what: 'a request log row'});
  const before = await snapshot(s);
  const refusedKeys = [];

  // For each route: what to send, per purpose ('deny' = with refused credentials).
  const build = {
    'POST /admin/api/logout': () => ({}),
    'GET /admin/api/session': () => ({}),
    'GET /admin/api/keys': () => ({}),
    'POST /admin/api/keys': (purpose) => {
      const k = poolKey('Valid');
      registerSecret('a pool key', k);
      if (purpose === 'deny') refusedKeys.push(k);
      return {body: {keys: [k]}};
    },
    'DELETE /admin/api/keys/{id}': async (purpose) => {
      if (purpose === 'deny') return {id: ctx.victimKeyId};
      const added = await addKeys(s, [poolKey('Valid')]);
      return {id: added.added_ids[0]};
    },
    'PATCH /admin/api/keys/{id}': (purpose) => ({id: ctx.keyId,
                                                  body: purpose === 'deny' ? {weight: 7} : {note: 'matrix'}}),
    'POST /admin/api/keys/{id}/verify': () => ({id: ctx.keyId}),
    'POST /admin/api/keys/{id}/reset': () => ({id: ctx.keyId}),
    'POST /admin/api/keys/{id}/enable': () => ({id: ctx.keyId}),
    'POST /admin/api/keys/{id}/disable': (purpose) => ({id: purpose === 'deny' ? ctx.keyId : ctx.victimKeyId}),
    'POST /admin/api/keys/bulk': (purpose) => (purpose === 'deny'
      ? {body: {action: 'delete', ids: 'all'}} : {body: {action: 'reset', ids: [ctx.keyId]}}),
    'GET /admin/api/tokens': () => ({}),
    'POST /admin/api/tokens': () => ({body: {label: 'matrix'}}),
    'PATCH /admin/api/tokens/{id}': (purpose) => ({id: ctx.tokenId, body: purpose === 'deny'
      ? {enabled: false, rpm: 1} : {label: 'matrix-victim'}}),
    'DELETE /admin/api/tokens/{id}': async (purpose) => {
      if (purpose === 'deny') return {id: ctx.tokenId};
      return {id: (await createToken(s, {label: 'matrix-delete'})).id};
    },
    'GET /admin/api/settings': () => ({}),
    'PATCH /admin/api/settings': (purpose) => ({body: purpose === 'deny'
      ? {max_retries: 7, admin_token: newAdminToken('evil')} : {log_retention_days: 31}}),
    'GET /admin/api/logs': () => ({}),
    'DELETE /admin/api/logs': (purpose) => ({body: purpose === 'deny' ? {kind: 'request', all: true}
                                                                 : {kind: 'error', all: true}}),
    'GET /admin/api/stats': () => ({query: 'window=1h'}),
    'POST /admin/api/reload': () => ({body: {}}),
    'GET /admin': () => ({}),
  };

  const exercised = new Set();
  for (const route of ROUTES.filter((r) => r.kind !== 'public')) {
    const name = `${route.method} ${route.path}`;
    await t.test(name, async () => {
      assert.ok(build[name], `the matrix knows how to call ${name}`);
      for (const [what, mode] of Object.entries(deniedModes(s))) {
        const req = await build[name]('deny');
        const r = await send(s, route, req, mode);
        const where = `${name} with ${what}`;
        if (route.kind === 'page') {
          if (isNoCredential(mode.headers || {})) {
            assert.equal(r.status, 302, `${where}: ${r.status}`);
            assert.equal(r.headers.get('location'), PAGE_LOGIN, where);
          } else {
            assert.ok(r.status === 401 || (r.status === 302 && r.headers.get('location') === PAGE_LOGIN),
                      `${where}: ${r.status}`);
          }
          assert.ok(!/<script/i.test(r.text), `${where}: no page content`);
        } else {
          assert.equal(r.status, 401, `${where}: ${r.status} ${r.text.slice(0, 200)}`);
          adminError(r, 401);
          assert.ok(!/"items"|"masked"|"authenticated":true/.test(r.text), `${where}: no data`);
        }
      }
      // The admin bearer, then a session cookie (a fresh one for logout, which ends it).
      for (const via of ['bearer', 'cookie']) {
        const req = await build[name]('allow');
        const cookie = via === 'cookie' ? await loginCookie(s) : undefined;
        const r = await send(s, route, req, via === 'bearer'
          ? {headers: {authorization: `Bearer ${s.adminToken}`}}
          : {headers: {cookie, 'content-type': 'application/json'}});
        const where = `${name} via ${via}`;
        if (route.kind === 'page') {
          assert.equal(r.status, 200, where);
          assert.match(r.headers.get('content-type'), /text\/html/, where);
          assert.match(r.text, /<html/i, where);
        } else {
          assert.ok(r.status === 200 || r.status === 201, `${where}: ${r.status} ${r.text.slice(0, 300)}`);
          assert.ok(r.json && typeof r.json === 'object' && !r.json.error, `${where}: ${r.text.slice(0, 300)}`);
        }
        if (name === 'GET /admin/api/session') assert.equal(r.json.via, via);
      }
      exercised.add(name);
    });
  }

  await t.test('refused calls changed nothing', async () => {
    const after = await snapshot(s);
    assert.equal(after.settings.max_retries, before.settings.max_retries, 'max_retries unchanged');
    assert.ok(after.keyIds.includes(ctx.victimKeyId), 'the key a refused DELETE/bulk aimed at still exists');
    assert.ok(after.tokenIds.includes(ctx.tokenId), 'the token a refused DELETE aimed at still exists');
    assert.ok(after.logTotal >= before.logTotal, 'the request log was not cleared');
    const all = await allKeys(s);
    assert.equal((all.find((k) => k.id === ctx.keyId) || {}).status, 'active',
                 'the key a refused /disable aimed at is still active');
    assert.equal((all.find((k) => k.id === ctx.keyId) || {}).weight, 1, 'a refused PATCH changed no weight');
    for (const k of refusedKeys) {
      const j = ok(await api(s, 'GET', `/admin/api/keys?q=${k.slice(-12)}`));
      assert.equal(j.total, 0, 'a key sent with refused credentials was not added');
    }
    // The admin token a refused PATCH tried to set does not work; the real one still does.
    assert.equal((await api(s, 'GET', '/admin/api/session')).status, 200);
  });

  await t.test('every route of the table was exercised', () => {
    const want = ROUTES.filter((r) => r.kind !== 'public').map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(want.filter((n) => !exercised.has(n)), []);
  });
});

/** Sends one matrix request: route + {id, body, query} + credentials {headers, query}. */
async function send(s, route, req, mode) {
  let p = route.path.replace('{id}', String(req.id));
  const q = [req.query, mode.query].filter(Boolean).join('&');
  if (q) p += `?${q}`;
  return api(s, route.method, p, {auth: 'none', body: req.body, headers: {...(mode.headers || {})}});
}

async function snapshot(s) {
  const settings = Object.fromEntries(ok(await api(s, 'GET', '/admin/api/settings')).items
    .map((i) => [i.name, i.value]));
  const keyIds = (await allKeys(s)).map((k) => k.id);
  const tokenIds = ok(await api(s, 'GET', '/admin/api/tokens')).items.map((x) => x.id);
  const logTotal = ok(await api(s, 'GET', '/admin/api/logs?kind=request')).total;
  return {settings, keyIds, tokenIds, logTotal};
}

test('public routes: the login page, its assets and POST /admin/api/login need no credentials', async (t) => {
  const s = await adminStack(t, fake);
  for (const p of ['/admin/login', '/admin/login/']) {
    const r = await api(s, 'GET', p, {auth: 'none'});
    assert.equal(r.status, 200, p);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.match(r.text, /<html/i);
    assert.ok(r.headers.get('content-security-policy'), 'the login page has a CSP');
  }
  const page = (await api(s, 'GET', '/admin/login', {auth: 'none'})).text;
  const assets = [...page.matchAll(/(?:href|src)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(assets.length >= 2, `the login page references its assets: ${assets}`);
  for (const a of assets) {
    const r = await api(s, 'GET', a, {auth: 'none'});
    assert.equal(r.status, 200, a);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', a);
  }
  assert.equal((await api(s, 'GET', '/admin/assets/no-such-file.js', {auth: 'none'})).status, 404);
  const l = await login(s);
  assert.equal(l.r.status, 200, l.r.text);
  assert.equal(l.r.json.ok, true);
});

test('unknown admin routes and wrong methods ask for credentials first (no route discovery)', async (t) => {
  const s = await adminStack(t, fake);
  const probes = [['GET', '/admin/api/nope'], ['GET', '/admin/api/'], ['GET', '/admin/api'],
                  ['GET', '/admin/nope'], ['GET', '/admin/api/keys/1/nope'], ['GET', '/admin/api/logout'],
                  ['PUT', '/admin/api/settings'], ['OPTIONS', '/admin/api/keys'], ['GET', '/admin/api/keys/bulk'],
                  ['POST', '/admin/api/tokens/1'], ['DELETE', '/admin/api/stats']];
  for (const [m, p] of probes) {
    const r = await api(s, m, p, {auth: 'none'});
    assert.equal(r.status, 401, `${m} ${p} without credentials: ${r.status}`);
  }
  // With the admin bearer they are plain 404/405.
  for (const [m, p] of probes) {
    const r = await api(s, m, p);
    assert.ok(r.status === 404 || r.status === 405, `${m} ${p} with the bearer: ${r.status} ${r.text}`);
    adminError(r, r.status);
  }
});

test('path tricks never reach admin data without credentials (raw sockets, byte-exact)', async (t) => {
  const s = await adminStack(t, fake);
  const tricks = ['//admin/api/keys', '/admin/api/../api/keys', '/admin/./api/keys', '/%61dmin/api/keys',
                  '/admin/api/%6Beys', '/ADMIN/api/keys', '/Admin/Api/Keys', '/admin/api/keys/../../api/keys',
                  '/v1beta/../admin/api/keys', '/admin%2fapi/keys', '/admin%2Fapi%2Fkeys', '/admin/api/keys%2f',
                  '/admin/assets/../api/keys', '/admin/assets/%2e%2e/api/keys', '/admin/assets/..%2fapi/keys',
                  '/admin/login/../api/keys', '/admin/api/login/../keys', '/admin/api/login/..;/keys',
                  '/admin/api/login%00/../keys', '/admin/api/keys%00', '/admin/api/keys;', '/admin/api/keys.json',
                  '/admin/api/keys/', '/admin/api/keys?', '/admin/api/keys#x', '/admin\\api\\keys',
                  '/%2e%2e/admin/api/keys', '/gemini/v1beta/../../admin/api/keys', '/admin/api/%2e%2e/api/keys',
                  '/admin/api/keys/%2e%2e/settings', '/./admin/api/settings', '/admin//api//tokens'];
  const credentialLess = [
    ['no credentials', {}],
    ['a client token in x-goog-api-key', {'x-goog-api-key': s.token}],
    ['a client token as bearer', {authorization: `Bearer ${s.token}`}],
  ];
  // Control (first, as the wrong bearers below get this address throttled): the tricks that
  // normalise to /admin/api/keys are refused by authentication, not by luck: the same bytes
  // with the admin bearer reach the real route.
  const normalised = ['//admin/api/keys', '/admin/api/../api/keys', '/%61dmin/api/keys', '/v1beta/../admin/api/keys'];
  for (const target of normalised) {
    const r = await raw(s, 'GET', target, {headers: {authorization: `Bearer ${s.adminToken}`}});
    assert.equal(r.status, 200, `${target} with the bearer: ${r.text.slice(0, 200)}`);
    assert.ok(Array.isArray(r.json?.items));
  }
  for (const target of tricks) {
    for (const [what, headers] of credentialLess) {
      const r = await raw(s, 'GET', target, {headers});
      const where = `GET ${target} with ${what}`;
      // 429: wrong bearers are throttled like failed logins (hardening item 6), and this loop
      // sends dozens of them from one address.
      assert.ok([400, 401, 404, 429].includes(r.status), `${where}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(!/"items"|"masked"/.test(r.text), `${where}: no admin data`);
    }
    // ?key= with a client token (the Gemini chain's query credential) opens nothing either.
    const sep = target.includes('?') ? '&' : '?';
    const r = await raw(s, 'GET', `${target}${sep}key=${s.token}`);
    assert.ok([400, 401, 404].includes(r.status), `GET ${target} with ?key=<client token>: ${r.status}`);
  }
});

test('spoofed Host, X-Forwarded-For and friends grant nothing', async (t) => {
  const s = await adminStack(t, fake);
  const spoofs = {
    'Host: localhost': {host: 'localhost'},
    'Host: 127.0.0.1': {host: '127.0.0.1'},
    'X-Forwarded-For: 127.0.0.1': {'x-forwarded-for': '127.0.0.1'},
    'all local-origin headers': {host: 'localhost', 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1',
                                 forwarded: 'for=127.0.0.1;host=localhost;proto=https',
                                 'x-forwarded-host': 'localhost', 'x-forwarded-proto': 'https',
                                 'x-client-ip': '127.0.0.1', 'true-client-ip': '127.0.0.1'},
    'X-Original-URL to the login page': {'x-original-url': '/admin/login', 'x-rewrite-url': '/admin/login'},
  };
  for (const [what, headers] of Object.entries(spoofs)) {
    for (const target of ['/admin/api/keys', '/admin/api/settings', '/admin/api/session']) {
      const r = await raw(s, 'GET', target, {headers});
      assert.equal(r.status, 401, `GET ${target} with ${what}: ${r.status}`);
    }
    const page = await raw(s, 'GET', '/admin', {headers});
    assert.equal(page.status, 302, `GET /admin with ${what}`);
  }
  // Absolute-form request targets do not change the authority of the check either.
  const abs = await raw(s, 'GET', 'http://localhost/admin/api/keys', {headers: {host: 'localhost'}});
  assert.ok([400, 401].includes(abs.status), `absolute-form: ${abs.status}`);
});

test('no CORS is granted to other origins; API answers are not cacheable', async (t) => {
  const s = await adminStack(t, fake);
  const pre = await api(s, 'OPTIONS', '/admin/api/keys', {auth: 'none', headers: {
    origin: 'http://evil.test', 'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type'}});
  assert.equal(pre.headers.get('access-control-allow-origin'), null, 'no ACAO on a preflight');
  assert.equal(pre.headers.get('access-control-allow-credentials'), null);
  const r = await api(s, 'GET', '/admin/api/keys', {headers: {origin: 'http://evil.test'}});
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), null, 'no ACAO on an answer');
  for (const p of ['/admin/api/keys', '/admin/api/settings', '/admin/api/tokens', '/admin/api/session']) {
    assert.match((await api(s, 'GET', p)).headers.get('cache-control') || '', /no-store/, p);
  }
  const page = await api(s, 'GET', '/admin');
  assert.match(page.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
});

test('body limits: over 1 MiB → 413; invalid JSON → 400 with a message', async (t) => {
  const s = await adminStack(t, fake);
  const big = JSON.stringify({text: 'x'.repeat(1024 * 1024)});
  for (const [m, p] of [['POST', '/admin/api/keys'], ['PATCH', '/admin/api/settings'], ['POST', '/admin/api/tokens']]) {
    const r = await api(s, m, p, {body: big});
    adminError(r, 413);
  }
  const before = ok(await api(s, 'GET', '/admin/api/keys')).total;
  // Exactly 1 MiB is allowed (the limit is "over 1 MiB").
  const k = poolKey('Valid');
  registerSecret('a pool key', k);
  const exact = JSON.stringify({text: k}).padEnd(1024 * 1024, ' ');
  assert.equal(Buffer.byteLength(exact), 1024 * 1024);
  const r1 = await api(s, 'POST', '/admin/api/keys', {body: exact});
  assert.ok(r1.status === 200 || r1.status === 201, `1 MiB body: ${r1.status} ${r1.text.slice(0, 200)}`);
  assert.equal(ok(await api(s, 'GET', '/admin/api/keys')).total, before + 1);
  const writers = [['POST', '/admin/api/keys'], ['PATCH', '/admin/api/settings'], ['POST', '/admin/api/tokens'],
                   ['POST', '/admin/api/keys/bulk'], ['DELETE', '/admin/api/logs']];
  for (const [m, p] of writers) {
    for (const bad of ['{"keys": [', '{"a":1}}', 'not json', '{\'a\':1}']) {
      const r = await api(s, m, p, {body: bad});
      const e = adminError(r, 400);
      assert.match(e.message, /JSON/i, `${m} ${p} ${bad}: ${e.message}`);
    }
    for (const notObject of ['[1,2]', '"text"', '42', 'null']) {
      const r = await api(s, m, p, {body: notObject});
      adminError(r, 400);
    }
  }
  assert.equal(ok(await api(s, 'GET', '/admin/api/keys')).total, before + 1, 'bad bodies added nothing');
  // A chunked body over the limit too (no Content-Length to judge by).
  const chunk = Buffer.alloc(64 * 1024, 'a').toString();
  const pieces = [`POST /admin/api/keys HTTP/1.1\r\nhost: 127.0.0.1:${s.gw.port}\r\n` +
                  `authorization: Bearer ${s.adminToken}\r\ncontent-type: application/json\r\n` +
                  'transfer-encoding: chunked\r\nconnection: close\r\n\r\n'];
  for (let i = 0; i < 20; i++) pieces.push(`${(64 * 1024).toString(16)}\r\n${chunk}\r\n`);
  pieces.push('0\r\n\r\n');
  const chunked = await rawRequest(s.gw.port, pieces, {responses: 1, timeoutMs: 10000});
  assert.equal(chunked.responses[0]?.status, 413, `chunked 1.25 MiB: ${chunked.text.slice(0, 200)}`);
  const login = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: '{"token": '});
  adminError(login, 400);
});

test('no admin token, client token or pool key in the gateway logs after the matrix traffic', async (t) => {
  const s = await adminStack(t, fake, {env: {GEMGATE_LOG_LEVEL: 'debug'}});
  const wrong = newAdminToken('wrongcanary');
  registerSecret('a wrong admin token', wrong);
  for (const mode of Object.values(deniedModes(s))) {
    await send(s, {method: 'GET', path: '/admin/api/keys'}, {}, mode);
  }
  await api(s, 'GET', `/admin/api/keys?token=${s.adminToken}`, {auth: 'none'});
  await api(s, 'GET', '/admin/api/keys', {token: wrong});
  await addKeys(s, [poolKey('Valid')]);
  await createToken(s, {label: 'canary'});
  await api(s, 'PATCH', '/admin/api/settings', {body: {max_retries: 2}});
  await s.gw.stop();
  assertNoSecrets(collectGatewayLogs(s.gw), 'the gateway logs');
  assert.ok(scannedCount() > 100, `answers scanned in this file: ${scannedCount()}`);
});
