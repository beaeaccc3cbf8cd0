// Browser sessions and CSRF (hardening T40): the session cookie's attributes and opacity, slow
// and throttled failed logins that never log the value tried, CSRF refusals for cookie-
// authenticated state changes (Content-Type, Origin, Sec-Fetch-Site) while bearer calls are
// exempt, server-side logout, and a changed admin token ending every session.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {poolKey, clientToken, collectGatewayLogs} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, login, loginCookie, sessionStatus, newAdminToken,
        registerSecret, assertNoSecrets, sha256hex, parseSetCookie, addKeys, createToken, allKeys,
        sleep} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

test('login sets an opaque HttpOnly, SameSite=Strict, Path=/admin cookie with Max-Age', async (t) => {
  const s = await adminStack(t, fake);
  const t0 = Date.now();
  const l = await login(s);
  const t1 = Date.now();
  assert.equal(l.r.status, 200, l.r.text);
  assert.equal(l.r.json.ok, true);
  const ttlMs = 43200 * 1000;
  assert.ok(l.r.json.expires_at >= t0 + ttlMs - 1000 && l.r.json.expires_at <= t1 + ttlMs + 1000,
            `expires_at ${l.r.json.expires_at} ≈ now + 12 h`);
  assert.equal(l.r.setCookie.length, 1, `one Set-Cookie: ${l.r.setCookie}`);
  const c = l.parsed;
  assert.equal(c.name, 'gemgate_session');
  assert.equal(c.attrs.httponly, true, 'HttpOnly');
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'strict', 'SameSite=Strict');
  assert.equal(c.attrs.path, '/admin', 'Path=/admin');
  assert.equal(c.attrs['max-age'], '43200', 'Max-Age = admin_session_ttl_s');
  assert.equal(c.attrs.domain, undefined, 'host-only cookie');

  // Opaque: random, long, and carries nothing of the token.
  const v = c.value;
  assert.ok(v.length >= 22, `at least 128 bits of text (${v.length} chars)`);
  assert.notEqual(v, s.adminToken);
  assert.ok(!v.includes(s.adminToken) && !s.adminToken.includes(v), 'not derived from the token by inclusion');
  assert.ok(!v.includes(sha256hex(s.adminToken)), 'not the token hash');
  assert.notEqual(v.split('.').length, 3, 'not a JWT (header.payload.signature)');
  for (const part of v.split('.')) {
    const decoded = Buffer.from(part, 'base64url').toString('latin1');
    assert.ok(!decoded.includes('{"') && !decoded.includes(s.adminToken), 'no JSON or token inside');
  }
  assert.ok(!l.r.text.includes(v), 'the session id is not in the body');
  const again = await login(s);
  assert.notEqual(again.value, v, 'a new login gets a new session id');

  const viaCookie = ok(await api(s, 'GET', '/admin/api/session', {auth: 'cookie', cookie: l.cookie}));
  assert.deepEqual(viaCookie, {authenticated: true, via: 'cookie', expires_at: l.r.json.expires_at});
  const viaBearer = ok(await api(s, 'GET', '/admin/api/session'));
  assert.equal(viaBearer.authenticated, true);
  assert.equal(viaBearer.via, 'bearer');
  // Both cookies work independently.
  assert.equal(await sessionStatus(s, again.cookie), 200);
  assert.equal(await sessionStatus(s, l.cookie), 200);
});

test('a wrong token: 401 after about a second, no cookie, and never logged', async (t) => {
  const s = await adminStack(t, fake, {env: {GEMGATE_LOG_LEVEL: 'debug'}});
  const tried = [newAdminToken('wrongcanary'), `${s.adminToken}x`, s.adminToken.slice(0, -1), s.token,
                 s.keys[0], 'short-but-secret-canary-1'];
  tried.forEach((x, i) => registerSecret(`wrong login value #${i}`, x));
  // Sequentially: each is slowed down on its own.
  for (const tok of tried.slice(0, 3)) {
    const t0 = Date.now();
    const r = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: tok}});
    const ms = Date.now() - t0;
    adminError(r, 401, 'token');
    assert.ok(ms >= 950, `answered after ${ms} ms (want ≥ 1 s)`);
    assert.equal(r.setCookie.length, 0, 'no cookie on a failed login');
  }
  // In parallel (a client token and a pool key are no admin tokens either).
  const rs = await Promise.all(tried.slice(3).map((tok) =>
    api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: tok}})));
  for (const r of rs) adminError(r, 401, 'token');
  for (const body of [{}, {token: 5}, {token: null}, {tok: s.adminToken}]) {
    const r = await api(s, 'POST', '/admin/api/login', {auth: 'none', body});
    assert.ok(r.status === 400 || r.status === 401, `${JSON.stringify(body)}: ${r.status}`);
    assert.equal(r.setCookie.length, 0);
  }
  const empty = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: ''}});
  assert.equal(empty.status, 401, 'an empty token never matches');
  assert.equal(empty.setCookie.length, 0);
  // Fewer than 10 failures: the right token still logs in.
  assert.ok(await loginCookie(s));
  await s.gw.stop();
  const logs = collectGatewayLogs(s.gw);
  assert.match(logs, /failed login/i, 'failed logins are logged (without the value)');
  assertNoSecrets(logs, 'the gateway logs');
});

test('more than 10 failed logins a minute from one address → 429 with Retry-After', async (t) => {
  const s = await adminStack(t, fake);
  const wrong = Array.from({length: 10}, (_, i) => newAdminToken(`burst${i}`));
  wrong.forEach((w) => registerSecret('a wrong login value', w));
  const first = await Promise.all(wrong.map((w) =>
    api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: w}})));
  assert.deepEqual(first.map((r) => r.status), Array(10).fill(401), 'the first 10 failures are 401');
  const t0 = Date.now();
  const r = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: newAdminToken('11th')}});
  adminError(r, 429);
  const ra = r.headers.get('retry-after');
  assert.match(ra || '', /^\d+$/, `Retry-After in seconds: ${ra}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= 60, `Retry-After ${ra} within the minute`);
  assert.ok(Date.now() - t0 < 900, 'a throttled answer is immediate');
  // While throttled even the right token is refused (no oracle).
  const right = await login(s);
  assert.equal(right.r.status, 429, 'the right token is throttled too');
  assert.equal(right.cookie, null);
  // The throttle keys on the peer address: forwarding headers do not reset it.
  for (const xff of ['10.0.0.7', '203.0.113.9']) {
    const spoofed = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: newAdminToken('xff')},
                                                               headers: {'x-forwarded-for': xff, 'x-real-ip': xff}});
    assert.equal(spoofed.status, 429, `X-Forwarded-For: ${xff}`);
  }
  // Wrong bearers share this budget (hardening item 6), so the throttled address is refused
  // with the right bearer too; its existing sessions and other addresses are unaffected.
  const bearer = await api(s, 'GET', '/admin/api/keys');
  adminError(bearer, 429);
  assert.match(bearer.headers.get('retry-after') || '', /^\d+$/);
});

test('a burst of 30 parallel wrong logins lets at most 10 through to the token check', async (t) => {
  const s = await adminStack(t, fake);
  const rs = await Promise.all(Array.from({length: 30}, (_, i) =>
    api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token: newAdminToken(`par${i}`)}})));
  const counts = {};
  for (const r of rs) counts[r.status] = (counts[r.status] || 0) + 1;
  assert.deepEqual(Object.keys(counts).sort(), ['401', '429'], JSON.stringify(counts));
  assert.ok(counts[401] <= 10, `at most 10 failures checked per minute, got ${counts[401]}`);
});

/** The same-origin Origin value of the gateway as a browser would send it. */
const origin = (s) => `http://127.0.0.1:${s.gw.port}`;

test('CSRF: cookie-authenticated state changes need same-origin JSON, else 403 and no effect', async (t) => {
  const s = await adminStack(t, fake);
  const cookie = await loginCookie(s);
  const victimToken = (await createToken(s, {label: 'csrf-victim'})).id;
  const bad = {
    'Content-Type text/plain': {'content-type': 'text/plain'},
    'Content-Type application/x-www-form-urlencoded': {'content-type': 'application/x-www-form-urlencoded'},
    'Content-Type multipart/form-data': {'content-type': 'multipart/form-data; boundary=x'},
    'no Content-Type': {'content-type': ''},
    'Origin: http://evil.test': {origin: 'http://evil.test'},
    'Origin: null': {origin: 'null'},
    'Origin of another port': {origin: `http://127.0.0.1:${s.gw.port + 1}`},
    'Origin with the host as a prefix': {origin: `http://127.0.0.1:${s.gw.port}.evil.test`},
    'Sec-Fetch-Site: cross-site': {'sec-fetch-site': 'cross-site'},
    'Sec-Fetch-Site: same-site': {'sec-fetch-site': 'same-site'},
    'same-origin Origin but Sec-Fetch-Site: cross-site': {origin: origin(s), 'sec-fetch-site': 'cross-site'},
  };
  const calls = () => [
    ['POST', '/admin/api/keys', {keys: [poolKey('Valid')]}],
    ['PATCH', '/admin/api/settings', {max_retries: 9}],
    ['DELETE', `/admin/api/tokens/${victimToken}`, undefined],
    ['DELETE', '/admin/api/logs', {kind: 'request', all: true}],
    ['POST', '/admin/api/keys/bulk', {action: 'delete', ids: 'all'}],
    ['POST', '/admin/api/tokens', {label: 'csrf'}],
    ['POST', '/admin/api/logout', {}],
  ];
  const keysBefore = (await allKeys(s)).length;
  for (const [what, headers] of Object.entries(bad)) {
    for (const [m, p, body] of calls()) {
      if (body?.keys) body.keys.forEach((k) => registerSecret('a pool key', k));
      const h = {...headers};
      if (h['content-type'] === '') delete h['content-type'];
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const r = await api(s, m, p, {auth: 'cookie', cookie, body: payload, headers: {'content-type': undefined, ...h}});
      adminError(r, 403);
    }
  }
  // Nothing was applied, and the session is still alive (the refused logout did not end it).
  assert.equal((await allKeys(s)).length, keysBefore, 'no key added or deleted');
  const settings = ok(await api(s, 'GET', '/admin/api/settings')).items;
  assert.equal(settings.find((i) => i.name === 'max_retries').value, 3, 'max_retries unchanged');
  const tokens = ok(await api(s, 'GET', '/admin/api/tokens')).items;
  assert.ok(tokens.some((x) => x.id === victimToken), 'the token is still there');
  assert.ok(!tokens.some((x) => x.label === 'csrf'), 'no token created');
  assert.equal(await sessionStatus(s, cookie), 200);

  // Same-origin JSON (with or without Origin / Sec-Fetch-Site) is fine.
  const good = [{}, {origin: origin(s)}, {'sec-fetch-site': 'same-origin'},
                {origin: origin(s), 'sec-fetch-site': 'same-origin'},
                {'content-type': 'application/json; charset=utf-8'}];
  for (const headers of good) {
    const r = await api(s, 'PATCH', '/admin/api/settings', {auth: 'cookie', cookie, body: {max_retries: 2}, headers});
    assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.text.slice(0, 200)}`);
  }
  const del = await api(s, 'DELETE', `/admin/api/tokens/${victimToken}`, {auth: 'cookie', cookie,
                                                                            headers: {origin: origin(s)}});
  assert.equal(del.status, 200, del.text);
});

test('bearer calls are not subject to the Origin / Content-Type checks', async (t) => {
  const s = await adminStack(t, fake);
  const k = poolKey('Valid');
  registerSecret('a pool key', k);
  const r = await api(s, 'POST', '/admin/api/keys', {body: JSON.stringify({keys: [k]}), headers: {
    'content-type': 'text/plain', origin: 'http://evil.test', 'sec-fetch-site': 'cross-site'}});
  assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
  assert.equal(r.json.added, 1);
  const p = await api(s, 'PATCH', '/admin/api/settings', {
    body: JSON.stringify({max_retries: 2}), headers: {'content-type': 'text/plain', origin: 'http://evil.test'}});
  assert.equal(p.status, 200, p.text);
});

test('the login call itself refuses cross-site and non-JSON requests (login CSRF)', async (t) => {
  const s = await adminStack(t, fake);
  const cases = [{'content-type': 'text/plain'}, {origin: 'http://evil.test'}, {'sec-fetch-site': 'cross-site'},
                 {'content-type': 'application/x-www-form-urlencoded'}];
  for (const headers of cases) {
    const body = JSON.stringify({token: s.adminToken});
    const r = await api(s, 'POST', '/admin/api/login', {auth: 'none', body, headers});
    adminError(r, 403);
    assert.equal(r.setCookie.length, 0, `no cookie for ${JSON.stringify(headers)}`);
  }
  const l = await login(s, s.adminToken, {origin: origin(s), 'sec-fetch-site': 'same-origin'});
  assert.equal(l.r.status, 200);
});

test('logout revokes the session server-side; other sessions live on', async (t) => {
  const s = await adminStack(t, fake);
  const a = await loginCookie(s);
  const b = await loginCookie(s);
  const r = await api(s, 'POST', '/admin/api/logout', {auth: 'cookie', cookie: a});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {ok: true});
  const cleared = r.setCookie.map(parseSetCookie).find((c) => c.name === 'gemgate_session');
  assert.ok(cleared, 'the cookie is cleared');
  assert.equal(cleared.value, '');
  assert.equal(cleared.attrs['max-age'], '0');
  assert.equal(cleared.attrs.path, '/admin');
  // The old cookie, replayed as a stale browser or a thief would, is dead for every route.
  assert.equal(await sessionStatus(s, a), 401);
  for (const [m, p, body] of [['GET', '/admin/api/keys'], ['GET', '/admin/api/settings'],
                              ['POST', '/admin/api/tokens', {label: 'stale'}], ['POST', '/admin/api/logout', {}]]) {
    const x = await api(s, m, p, {auth: 'cookie', cookie: a, body});
    assert.equal(x.status, 401, `${m} ${p} with the logged-out cookie: ${x.status}`);
  }
  const page = await api(s, 'GET', '/admin', {auth: 'cookie', cookie: a});
  assert.equal(page.status, 302);
  assert.equal(await sessionStatus(s, b), 200, 'another session is not affected');
  const bearerLogout = await api(s, 'POST', '/admin/api/logout');
  assert.equal(bearerLogout.status, 200, 'logout with the bearer is harmless');
  assert.equal(await sessionStatus(s, b), 200);
});

test('changing admin_token ends every session; the new token works, the old does not', async (t) => {
  const s = await adminStack(t, fake);
  const oldToken = s.adminToken;
  const a = await loginCookie(s);
  const b = await loginCookie(s);
  // A bad new token is refused and changes nothing.
  for (const bad of ['short', 'has a space inside it!', 42, 'tab\tinside-the-new-token']) {
    const r = await api(s, 'PATCH', '/admin/api/settings', {auth: 'cookie', cookie: a, body: {admin_token: bad}});
    adminError(r, 400, 'admin_token');
  }
  assert.equal(await sessionStatus(s, a), 200, 'a refused change ends no session');
  const newToken = newAdminToken('rotated');
  registerSecret('the new admin token', newToken);
  const r = await api(s, 'PATCH', '/admin/api/settings', {auth: 'cookie', cookie: a, body: {admin_token: newToken}});
  assert.equal(r.status, 200, r.text);
  for (const body of [r.text, (await api(s, 'GET', '/admin/api/settings', {token: newToken})).text]) {
    const item = JSON.parse(body).items.find((i) => i.name === 'admin_token');
    assert.deepEqual(item.value, {set: true}, 'a secret setting is shown as set only');
    assert.equal(item.type, 'secret');
    for (const secret of [newToken, oldToken, sha256hex(newToken), sha256hex(oldToken)]) {
      assert.ok(!body.includes(secret), 'neither token nor its hash is returned');
    }
  }
  assert.equal(await sessionStatus(s, a), 401, 'the session that made the change ended');
  assert.equal(await sessionStatus(s, b), 401, 'every other session ended');
  assert.equal((await api(s, 'GET', '/admin/api/keys', {token: oldToken})).status, 401, 'old bearer refused');
  assert.equal((await api(s, 'GET', '/admin/api/keys', {token: newToken})).status, 200, 'new bearer works');
  const oldLogin = await login(s, oldToken);
  assert.equal(oldLogin.r.status, 401, 'the old token no longer logs in');
  s.adminToken = newToken;
  const c = await loginCookie(s);
  assert.equal(await sessionStatus(s, c), 200, 'the new token logs in');
});

test('admin_session_ttl_s applies to the next login without a restart', async (t) => {
  const s = await adminStack(t, fake);
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {admin_session_ttl_s: 600}}));
  const l = await login(s);
  assert.equal(l.parsed.attrs['max-age'], '600');
  assert.ok(Math.abs(l.r.json.expires_at - (Date.now() + 600_000)) < 5000, 'expires_at ≈ now + 10 min');
  for (const bad of [299, 30 * 86400 + 1, '600', 1.5, true]) {
    const r = await api(s, 'PATCH', '/admin/api/settings', {body: {admin_session_ttl_s: bad}});
    adminError(r, 400, 'admin_session_ttl_s');
  }
});

test('session ids and admin tokens never reach the logs', async (t) => {
  const s = await adminStack(t, fake, {env: {GEMGATE_LOG_LEVEL: 'debug'}});
  const c = await loginCookie(s);
  await addKeys(s, [poolKey('Valid')]);
  await api(s, 'POST', '/admin/api/logout', {auth: 'cookie', cookie: c});
  await api(s, 'GET', '/admin/api/keys', {auth: 'cookie', cookie: c});
  const newToken = newAdminToken('logcanary');
  registerSecret('the new admin token', newToken);
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {admin_token: newToken}}));
  s.adminToken = newToken;
  await loginCookie(s);
  await createToken(s, {token: clientToken('logcanary')});
  await sleep(100);
  await s.gw.stop();
  assertNoSecrets(collectGatewayLogs(s.gw), 'the gateway logs');
});

test('no session made with the old token outlives a token change, even when the calls race', async (t) => {
  // "Changing the admin token ends every session": logins with the old token that race the
  // PATCH either fail or get a session that the change ends — none may survive it.
  const s = await adminStack(t, fake);
  let current = s.adminToken;
  const survivors = [];
  let logins = 0;
  for (let round = 0; round < 10; round++) {
    const next = newAdminToken(`race${round}`);
    registerSecret('a rotated admin token', next);
    const patchDone = api(s, 'PATCH', '/admin/api/settings', {token: current, body: {admin_token: next}});
    const attempts = [];
    for (let j = 0; j < 6; j++) {
      attempts.push(login(s, current));
      await sleep(j % 3);
    }
    const [p, ...ls] = await Promise.all([patchDone, ...attempts]);
    assert.equal(p.status, 200, p.text);
    for (const l of ls) {
      if (!l.cookie) continue;
      logins++;
      if (await sessionStatus(s, l.cookie) === 200) survivors.push(round);
    }
    current = next;
    s.adminToken = next;
  }
  assert.equal(survivors.length, 0, `${survivors.length} of ${logins} sessions made with an old admin token ` +
               'were still valid after the token change had been answered');
});
