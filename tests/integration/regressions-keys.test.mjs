// Regression tests for review findings about the key pool (fixed in 2e275f1):
//  1. a client must not be able to get pool keys disabled by provoking an upstream error whose
//     message merely contains key wording (a 400 echoing an unknown field "API key not valid",
//     a 403 about a file the project may not read); a real key-level refusal (ErrorInfo
//     CONSUMER_SUSPENDED) still disables the key;
//  5. the health check (cron and scheduled) never brings back a key an operator disabled, while
//     it does revive a key the gateway disabled after an upstream rejection; an explicit verify
//     may;
//  8. the admin key search is not an oracle: pieces of a key shorter than 10 characters find
//     nothing, so a masked key cannot be recovered character by character.
// Each test fails against the code before the fix, except 1c, which guards the other side (a real
// key-level refusal must still disable the key).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {requestUntil} from '../support/stack.mjs';
import {call, generate, genBody, poolKey, clientToken, sleep, eventually}
  from '../support/gateway.mjs';
import {adminStack, api, ok, keyOf, letterKey, mask} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const CRON = '/api/cron/health-check';

/** Key counts of the admin list ({all, active, cooling, disabled}). */
async function counts(s) {
  return ok(await api(s, 'GET', '/admin/api/keys?per_page=500')).counts;
}

/**
 * Sends generateContent requests until every key in `keys` was used upstream at least once
 * (fails when one never is). Proves each key is still in rotation.
 */
async function assertAllServe(s, keys, what) {
  const before = new Map(keys.map((k) => [k, s.fake.callsFor(k)]));
  const unused = () => keys.filter((k) => s.fake.callsFor(k) === before.get(k));
  try {
    await requestUntil(s, () => unused().length === 0, {max: 10 * keys.length, text: 'serve'});
  } catch (e) {
    assert.fail(`${what}: ${unused().length} key(s) never used afterwards (${e.message})`);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Client-triggered key disabling

const UNKNOWN_FIELD_MSG =
    'Invalid JSON payload received. Unknown name "API key not valid": Cannot find field.';
const UNKNOWN_FIELD_BODY = {
  error: {
    code: 400,
    message: UNKNOWN_FIELD_MSG,
    status: 'INVALID_ARGUMENT',
    details: [{
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{description: UNKNOWN_FIELD_MSG}],
    }],
  },
};

test('1a: a 400 echoing an unknown field "API key not valid": as is, once, no key disabled',
     async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys});
  s.fake.script({match: {pathIncludes: ':generateContent'}, status: 400, body: UNKNOWN_FIELD_BODY});

  const body = {...genBody('hello'), 'API key not valid': true};
  const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent',
                       {token: s.token, body});
  assert.equal(r.status, 400, `the client gets Google's 400: ${r.text.slice(0, 300)}`);
  assert.equal(r.json?.error?.code, 400, r.text);
  assert.equal(r.json?.error?.status, 'INVALID_ARGUMENT', r.text);
  assert.equal(r.json?.error?.message, UNKNOWN_FIELD_MSG, 'the upstream message, unchanged');
  assert.equal(s.fake.stats().total, 1, 'exactly one upstream call: a client error is not retried');
  const sent = s.fake.requests()[0];
  assert.ok(sent.body.includes('API key not valid'), 'the request went upstream as sent');

  assert.deepEqual(await counts(s), {all: 3, active: 3, cooling: 0, disabled: 0},
                   'no key disabled by a client-provoked message');
  await assertAllServe(s, keys, 'after the 400');
});

for (const [what, path, body] of [
  ['streamGenerateContent (error in an array)', 'streamGenerateContent', [UNKNOWN_FIELD_BODY]],
  ['streamGenerateContent?alt=sse', 'streamGenerateContent?alt=sse', UNKNOWN_FIELD_BODY],
  ['countTokens', 'countTokens', UNKNOWN_FIELD_BODY],
]) {
  test(`1a: the same 400 on ${what}: once, no key disabled`, async (t) => {
    const keys = [poolKey('Valid'), poolKey('Valid')];
    const s = await adminStack(t, fake, {keys});
    const action = path.split('?')[0];
    s.fake.script({match: {pathIncludes: `:${action}`}, status: 400, body});
    const r = await call(s.gw, `/v1beta/models/gemini-2.5-flash:${path}`,
                         {token: s.token, body: {...genBody('hello'), 'API key not valid': 1}});
    assert.equal(r.status, 400, `the client gets Google's 400: ${r.text.slice(0, 300)}`);
    assert.ok(r.text.includes('Cannot find field'), r.text.slice(0, 300));
    assert.equal(s.fake.stats().total, 1, 'exactly one upstream call');
    assert.deepEqual(await counts(s), {all: 2, active: 2, cooling: 0, disabled: 0});
  });
}

test('1b: a 403 "no permission to access the File" goes back as is, once, no key disabled',
     async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys});
  const message = 'You do not have permission to access the File abc or it may not exist.';
  s.fake.script({match: {pathIncludes: '/files/abc'}, status: 403,
                 body: {error: {code: 403, message, status: 'PERMISSION_DENIED'}}});

  const r = await call(s.gw, '/v1beta/files/abc', {token: s.token});
  assert.equal(r.status, 403, `the client gets Google's 403: ${r.text.slice(0, 300)}`);
  assert.equal(r.json?.error?.status, 'PERMISSION_DENIED', r.text);
  assert.equal(r.json?.error?.message, message);
  assert.equal(s.fake.stats().total, 1, 'exactly one upstream call');
  assert.equal(s.fake.requests()[0].path, '/v1beta/files/abc');

  assert.deepEqual(await counts(s), {all: 3, active: 3, cooling: 0, disabled: 0},
                   'no key disabled by a 403 about a file');
  await assertAllServe(s, keys, 'after the 403');
});

test('1c: a 403 with ErrorInfo CONSUMER_SUSPENDED still disables that key (and only it)',
     async (t) => {
  const denied = poolKey('Denied');
  const good = [poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys: [denied, ...good]});
  // The client never sees the pool key's trouble: the request is failed over.
  await requestUntil(s, () => s.fake.callsFor(denied) === 1, {max: 12, text: 'spread'});
  const k = await eventually(async () => {
    const x = await keyOf(s, denied);
    return x.status === 'disabled' && x;
  }, {what: 'the suspended key disabled'});
  assert.ok(k.reason.length > 0, 'a disabled key says why');
  assert.deepEqual(await counts(s), {all: 3, active: 2, cooling: 0, disabled: 1});
  const before = s.fake.callsFor(denied);
  await assertAllServe(s, good, 'the other keys');
  assert.equal(s.fake.callsFor(denied), before, 'the suspended key is out of rotation');
});

// ---------------------------------------------------------------------------------------------
// 5. Health check vs operator

/**
 * A stack with: `byAdmin` (valid upstream, disabled through the admin API), `rejected` (an
 * invalid key the gateway disabled after Google's answer, then flipped valid upstream) and a
 * spare valid key. Returns {s, byAdmin, rejected, spare, idAdmin, idRejected}.
 */
async function healthStack(t, settings) {
  const secret = `cron-${clientToken('hc')}`;
  const byAdmin = poolKey('Valid'), rejected = poolKey('Invalid'), spare = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [byAdmin, rejected, spare], cronSecret: secret,
                                       settings});
  s.cronSecret = secret;
  const idAdmin = (await keyOf(s, byAdmin)).id;
  const idRejected = (await keyOf(s, rejected)).id;
  const dis = ok(await api(s, 'POST', `/admin/api/keys/${idAdmin}/disable`));
  assert.equal(dis.status, 'disabled');
  assert.equal(dis.reason, 'disabled by admin');
  await requestUntil(s, () => s.fake.callsFor(rejected) === 1, {max: 12, text: 'reject'});
  await eventually(async () => (await keyOf(s, rejected)).status === 'disabled',
                   {what: 'the rejected key disabled by the gateway'});
  s.fake.reset();                        // upstream counts start here (overrides are cleared too)
  s.fake.setKeyMode(rejected, 'valid');  // the rejected key has recovered upstream
  return {s, byAdmin, rejected, spare, idAdmin, idRejected};
}

test('5: the cron health check revives a recovered key but never one the operator disabled',
     async (t) => {
  const {s, byAdmin, rejected, idAdmin, idRejected} = await healthStack(t);
  const r = await call(s.gw, CRON, {headers: {authorization: `Bearer ${s.cronSecret}`}});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.reactivated, 1, `only the recovered key comes back: ${r.text}`);
  assert.equal(s.fake.callsFor(byAdmin), 0, 'the admin-disabled key is not even probed');
  assert.ok(s.fake.callsFor(rejected) >= 1, 'the gateway-disabled key is probed');

  const a = await keyOf(s, byAdmin);
  assert.equal(a.status, 'disabled', 'the operator\'s decision stands');
  assert.equal(a.reason, 'disabled by admin');
  assert.equal((await keyOf(s, rejected)).status, 'active', 'the recovered key is back');
  assert.equal(a.id, idAdmin);

  // Survives a restart (the reason is stored) and a second run.
  await s.gw.restart();
  const r2 = await call(s.gw, CRON, {headers: {authorization: `Bearer ${s.cronSecret}`}});
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.reactivated, 0, r2.text);
  const a2 = await keyOf(s, byAdmin);
  assert.equal(a2.status, 'disabled', 'still disabled after a restart and another check');
  assert.equal(a2.reason, 'disabled by admin');
  assert.equal(s.fake.callsFor(byAdmin), 0, 'never probed');

  // An explicit verify is the operator asking: it may bring the key back when it answers.
  const v = ok(await api(s, 'POST', `/admin/api/keys/${idAdmin}/verify`));
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.equal(v.key.status, 'active', 'verify of a working key enables it');
  assert.equal(s.fake.callsFor(byAdmin), 1, 'verify probed it once');
  assert.notEqual(idRejected, idAdmin);
});

test('5: the scheduled health check (health_check_interval_s) leaves admin-disabled keys alone',
     async (t) => {
  const {s, byAdmin, rejected} = await healthStack(t, {health_check_interval_s: 1});
  await eventually(async () => (await keyOf(s, rejected)).status === 'active',
                   {timeoutMs: 5000, intervalMs: 200, what: 'the scheduled check reviving it'});
  await sleep(1500);  // at least one more scheduled run
  const a = await keyOf(s, byAdmin);
  assert.equal(a.status, 'disabled');
  assert.equal(a.reason, 'disabled by admin');
  assert.equal(s.fake.callsFor(byAdmin), 0, 'the admin-disabled key is never probed');
});

// ---------------------------------------------------------------------------------------------
// 8. Admin key search is not an oracle

test('8: key search needs 10+ characters of the key text; id, full key and masked form work',
     async (t) => {
  const keys = [letterKey(), letterKey(), letterKey()];
  const s = await adminStack(t, fake, {keys});
  const target = keys[1];
  const k = await keyOf(s, target);
  const search = async (q) => ok(await api(s, 'GET', `/admin/api/keys?q=${encodeURIComponent(q)}`));
  const finds = async (q) => (await search(q)).items.some((x) => x.id === k.id);

  for (const [from, len] of [[15, 9], [12, 9], [20, 8], [25, 5], [6, 9]]) {
    const piece = target.slice(from, from + len);
    const j = await search(piece);
    assert.equal(j.total, 0,
                 `a ${len}-character piece (${from}..) finds nothing: ${JSON.stringify(j.items)}`);
    assert.equal(j.items.length, 0);
  }
  assert.ok(await finds(target.slice(15, 25)), '10 characters from the middle find it');
  assert.ok(await finds(target.slice(14, 26)), '12 characters find it');
  assert.ok(await finds(target), 'the full key finds it');
  assert.ok(await finds(String(k.id)), 'the id finds it');
  assert.ok(await finds(mask(target)), 'the masked form finds it');
  assert.ok(await finds(target.slice(-4)), 'the last four (shown in the mask) find it');
  const j = await search(target.slice(15, 25));
  assert.deepEqual(j.items.map((x) => x.id), [k.id], 'and only it');
});
