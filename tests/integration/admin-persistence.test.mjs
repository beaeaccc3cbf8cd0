// What the admin API changed survives a restart on the same data dir: added keys and tokens,
// deletions, the disabled state, settings and browser sessions. The generated admin token is
// printed once on the first start, never again, and keeps working; a stored admin token wins
// over a different AUTH_TOKEN later; unsetting the token locks the API, never opens it.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {sequence} from '../support/stack.mjs';
import {generate, poolKey, clientToken} from '../support/gateway.mjs';
import {adminStack, api, ok, mask, allKeys, addKeys, createToken, loginCookie, login, sessionStatus,
        registerSecret, newAdminToken, letterKey} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** What the gateway printed since output entry `from`. */
const outputSince = (s, from) => s.gw.output.slice(from).filter((o) => o.stream !== 'harness')
  .map((o) => o.text).join('');

test('the generated admin token is printed once, works, and is not printed again', async (t) => {
  const s = await adminStack(t, fake, {adminToken: null});
  const first = outputSince(s, 0);
  const m = first.match(/generated one \(shown only this once\): (\S+)/);
  assert.ok(m, `the first start prints the generated token:\n${first}`);
  const token = m[1];
  assert.ok(token.length >= 24, `a strong token (${token.length} chars)`);
  assert.equal(first.split(token).length - 1, 1, 'printed exactly once');
  s.adminToken = token;
  registerSecret('the generated admin token', token);  // in no admin answer, ever
  ok(await api(s, 'GET', '/admin/api/keys'));
  const cookie = await loginCookie(s);
  const settings = ok(await api(s, 'GET', '/admin/api/settings')).items;
  assert.deepEqual(settings.find((i) => i.name === 'admin_token').value, {set: true});

  for (let run = 2; run <= 3; run++) {
    const from = s.gw.output.length;
    await s.gw.restart();
    const later = outputSince(s, from);
    assert.match(later, /listening on/, `run ${run} output captured`);
    assert.ok(!later.includes(token), `run ${run} does not print the token again`);
    assert.ok(!/generated/i.test(later), `run ${run} generates no new token`);
    ok(await api(s, 'GET', '/admin/api/keys'));
    assert.equal(await sessionStatus(s, cookie), 200, `run ${run}: the session survived`);
  }
});

test('keys, tokens, deletions, disabled state, settings and sessions survive a restart', async (t) => {
  const envKey = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [envKey]});
  // Changes through the admin API.
  const kept = letterKey(), disabled = poolKey('Valid'), removed = poolKey('Valid');
  const added = await addKeys(s, [kept, disabled, removed]);
  assert.equal(added.added, 3);
  const items = await allKeys(s);
  const id = (k) => items.find((x) => x.masked === mask(k)).id;
  ok(await api(s, 'POST', `/admin/api/keys/${id(disabled)}/disable`));
  ok(await api(s, 'DELETE', `/admin/api/keys/${id(removed)}`));
  const given = clientToken('persist');
  const tGiven = await createToken(s, {label: 'given', token: given});
  const tGen = await createToken(s, {label: 'generated'});
  const tGone = await createToken(s, {label: 'to delete'});
  ok(await api(s, 'DELETE', `/admin/api/tokens/${tGone.id}`));
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {
    max_failures: 7, hidden_models: ['gemini-2.5-pro'], model_aliases: {'my-fast': 'gemini-2.5-flash'},
    upstream_headers: {'x-goog-user-project': 'persisted'}, admin_session_ttl_s: 900}}));
  const cookie = await loginCookie(s);
  const loggedOut = await loginCookie(s);
  ok(await api(s, 'POST', '/admin/api/logout', {auth: 'cookie', cookie: loggedOut}));
  const sessionBefore = ok(await api(s, 'GET', '/admin/api/session', {auth: 'cookie', cookie}));
  const keysBefore = await allKeys(s);
  const tokensBefore = ok(await api(s, 'GET', '/admin/api/tokens')).items;
  const settingsBefore = ok(await api(s, 'GET', '/admin/api/settings'));

  const stopped = await s.gw.stop();
  assert.equal(stopped.code, 0, `graceful stop (${JSON.stringify(stopped)})`);
  s.fake.reset();
  await s.gw.restart();

  const keysAfter = await allKeys(s);
  const strip = (k) => ({id: k.id, masked: k.masked, status: k.status, reason: k.reason, created_at: k.created_at});
  assert.deepEqual(keysAfter.map(strip), keysBefore.map(strip), 'the same keys with the same state');
  assert.ok(!keysAfter.some((k) => k.masked === mask(removed)), 'the deleted key stays deleted');
  assert.equal(keysAfter.find((k) => k.id === id(disabled)).status, 'disabled');
  const reasonOf = (list) => list.find((k) => k.id === id(disabled)).reason;
  assert.equal(reasonOf(keysAfter), reasonOf(keysBefore), 'with its reason');
  const tokensAfter = ok(await api(s, 'GET', '/admin/api/tokens')).items;
  const tstrip = (x) => ({id: x.id, label: x.label, masked: x.masked, created_at: x.created_at});
  assert.deepEqual(tokensAfter.map(tstrip), tokensBefore.map(tstrip), 'the same tokens');
  assert.deepEqual(ok(await api(s, 'GET', '/admin/api/settings')), settingsBefore, 'the same settings');
  assert.deepEqual(ok(await api(s, 'GET', '/admin/api/session', {auth: 'cookie', cookie})), sessionBefore,
                   'the session survived with its expiry');
  assert.equal(await sessionStatus(s, loggedOut), 401, 'a logged-out session stays dead');

  // And they act: tokens, the disabled/deleted keys, the model rules, the extra header.
  for (const tok of [given, tGen.token, s.token]) {
    assert.equal((await generate(s.gw, 'after restart', {token: tok})).status, 200);
  }
  assert.equal((await generate(s.gw, 'deleted token', {token: tGone.token})).status, 401);
  await sequence(s, 6);
  assert.equal(s.fake.callsFor(disabled), 0, 'the disabled key is not used');
  assert.equal(s.fake.callsFor(removed), 0, 'the deleted key is not used');
  assert.ok(s.fake.callsFor(kept) >= 1 && s.fake.callsFor(envKey) >= 1, 'the others serve');
  assert.equal(s.fake.requests().at(-1).headers['x-goog-user-project'], 'persisted');
  assert.equal((await generate(s.gw, 'hidden', {token: s.token, model: 'gemini-2.5-pro'})).status, 404);
  assert.equal((await generate(s.gw, 'alias', {token: s.token, model: 'my-fast'})).status, 200);
  assert.equal(s.fake.requests().at(-1).path, '/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal((await login(s)).parsed.attrs['max-age'], '900', 'admin_session_ttl_s kept');
  assert.equal(tGiven.masked, mask(given));
});

test('a stored admin token wins over a different AUTH_TOKEN at a later start; PATCHed ones persist', async (t) => {
  const s = await adminStack(t, fake);
  const original = s.adminToken;
  const other = newAdminToken('other');
  registerSecret('another admin token', other);
  s.gw.opts.env = {...s.gw.opts.env, AUTH_TOKEN: other};
  const from = s.gw.output.length;
  await s.gw.restart();
  assert.match(outputSince(s, from), /AUTH_TOKEN differs/, 'a warning says the variable is ignored');
  assert.ok(!outputSince(s, from).includes(other), 'without printing it');
  assert.equal((await api(s, 'GET', '/admin/api/keys', {token: other})).status, 401, 'the new variable is ignored');
  ok(await api(s, 'GET', '/admin/api/keys', {token: original}));
  const rotated = newAdminToken('rotated');
  registerSecret('the rotated admin token', rotated);
  ok(await api(s, 'PATCH', '/admin/api/settings', {token: original, body: {admin_token: rotated}}));
  await s.gw.restart();
  assert.equal((await api(s, 'GET', '/admin/api/keys', {token: original})).status, 401, 'the old token stays dead');
  s.adminToken = rotated;
  ok(await api(s, 'GET', '/admin/api/keys'));
});

test('unsetting admin_token locks the admin API (never opens it); a restart restores AUTH_TOKEN', async (t) => {
  const s = await adminStack(t, fake);
  const cookie = await loginCookie(s);
  const r = await api(s, 'PATCH', '/admin/api/settings', {body: {admin_token: null}});
  if (r.status === 400) return;  // refusing to unset the token is fine as well
  assert.equal(r.status, 200, r.text);
  assert.equal(await sessionStatus(s, cookie), 401, 'sessions ended');
  const tries = [
    ['the old token', {token: s.adminToken}],
    ['an empty bearer', {auth: 'none', headers: {authorization: 'Bearer '}}],
    ['"Bearer" alone', {auth: 'none', headers: {authorization: 'Bearer'}}],
    ['no credentials', {auth: 'none'}],
  ];
  for (const [what, o] of tries) {
    assert.equal((await api(s, 'GET', '/admin/api/keys', o)).status, 401, what);
  }
  for (const token of ['', s.adminToken]) {
    const l = await login(s, token);
    assert.equal(l.r.status, 401, `login with ${token ? 'the old token' : 'an empty token'}`);
    assert.equal(l.cookie, null);
  }
  await s.gw.restart();
  ok(await api(s, 'GET', '/admin/api/keys'));
});

test('acknowledged admin changes survive a kill -9', async (t) => {
  const s = await adminStack(t, fake);
  const k = poolKey('Valid'), off = poolKey('Valid');
  const added = await addKeys(s, [k, off]);
  ok(await api(s, 'POST', `/admin/api/keys/${added.added_ids[1]}/disable`));
  const tok = await createToken(s, {label: 'kill'});
  ok(await api(s, 'PATCH', '/admin/api/settings', {body: {max_failures: 11, hidden_models: ['gemini-2.5-pro']}}));
  const cookie = await loginCookie(s);
  const keysBefore = (await allKeys(s)).map((x) => [x.id, x.status]);
  const settingsBefore = ok(await api(s, 'GET', '/admin/api/settings'));
  const stopped = await s.gw.stop({signal: 'SIGKILL'});
  assert.equal(stopped.signal, 'SIGKILL');
  await s.gw.restart();
  assert.deepEqual((await allKeys(s)).map((x) => [x.id, x.status]), keysBefore, 'keys and their disabled state');
  assert.deepEqual(ok(await api(s, 'GET', '/admin/api/settings')), settingsBefore, 'settings');
  assert.equal(await sessionStatus(s, cookie), 200, 'the session');
  assert.equal((await generate(s.gw, 'after kill', {token: tok.token})).status, 200, 'the created token');
});

test('SIGTERM under load: every answered request has its stored row and its access line', async (t) => {
  const s = await adminStack(t, fake);
  // 300 requests at once, each held 100-400 ms by the upstream; SIGTERM once 30 are answered,
  // while the rest are in flight (answered by the graceful stop, or refused at connect).
  const N = 300;
  let answered = 0;
  let stopping;
  const results = await Promise.all(Array.from({length: N}, (_, i) =>
    generate(s.gw, `load ${i} [[delay=${100 + (i % 4) * 100}]]`, {token: s.token})
      .catch(() => ({status: 0}))
      .then((r) => {
        if (r.status === 200 && ++answered === 30) stopping = s.gw.stop({timeoutMs: 20000});
        return r;
      })));
  const stopped = await stopping;
  assert.equal(stopped.timedOut, false, 'stopped without SIGKILL');
  assert.equal(stopped.code, 0, `graceful stop exits 0 (${JSON.stringify(stopped)})`);
  const ok200 = results.filter((r) => r.status === 200).length;
  assert.ok(ok200 >= 30, `${ok200} answered`);
  const lines = s.gw.logs().split('\n').filter((l) => / POST \S*:generateContent 200 /.test(l));
  assert.ok(lines.length >= ok200, `${lines.length} access lines for ${ok200} answers`);

  await s.gw.restart();
  const stored = ok(await api(s, 'GET', '/admin/api/logs?status=200&per_page=1'));
  assert.ok(stored.total >= ok200, `${stored.total} stored rows for ${ok200} answers`);
  assert.equal(stored.total, lines.length, 'one stored row per access line');
  t.diagnostic(`${ok200} of ${N} answered; ${lines.length} access lines, ${stored.total} rows`);
});
