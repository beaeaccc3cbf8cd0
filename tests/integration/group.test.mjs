// A group of gateways on one database (issue 12): three gemgate processes share one database
// and behave as one. Every scenario asserts what the stand-in upstream saw per key (its call
// counts) or what a client/admin sees on another instance; nothing asserts timing: each
// propagation is polled for with a generous deadline (the design bound is ~1 s).
// The database is a SQLite file (integration.group) or one PostgreSQL database on the test
// server (integration-pg.group): tests/support/group.mjs.

import test from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startGroup} from '../support/group.mjs';
import {generate, poolKey, eventually} from '../support/gateway.mjs';
import {newAdminToken, registerSecret, api, ok, login, sessionStatus}
  from './admin-lib.mjs';

const PROPAGATE = {timeoutMs: 15000, intervalMs: 100};

let fake;
test.before(async () => { fake = await startFakeGemini(); });
test.after(async () => { await fake?.close(); });

/** A group with a known admin token; each member gets the `api()` shape of an admin stack. */
async function group(t, opts = {}) {
  const adminToken = newAdminToken('grp');
  registerSecret('the admin token', adminToken);
  const g = await startGroup({fake, authToken: adminToken, ...opts});
  t.after(() => g.close());
  for (const k of g.keys) registerSecret('a pool key', k);
  for (const tok of g.tokens) registerSecret('a client token', tok);
  g.adminToken = adminToken;
  g.admin = (gw) => ({gw, adminToken});  // what admin-lib's api() wants
  return g;
}

const callsOf = (key) => fake.stats().calls[key] || 0;

async function keyStatus(g, gw, id) {
  const list = ok(await api(g.admin(gw), 'GET', '/admin/api/keys?per_page=500'));
  const k = list.items.find((x) => x.id === id);
  return k && k.status;
}

async function idOf(g, gw, key) {
  const list = ok(await api(g.admin(gw), 'GET', '/admin/api/keys?per_page=500'));
  const tail = key.slice(-4);
  const k = list.items.find((x) => x.masked.endsWith(tail));
  assert.ok(k, `key …${tail} listed on ${gw.name}`);
  return k.id;
}

test('a key added on A serves on B and C', async (t) => {
  const g = await group(t, {keys: []});
  const [A, B, C] = g.gws;
  // No key yet: nobody can serve.
  assert.notEqual((await generate(B, 'before', {token: g.token})).status, 200);
  const key = poolKey('Valid');
  registerSecret('a pool key', key);
  ok(await api(g.admin(A), 'POST', '/admin/api/keys', {body: {keys: [key]}}), 201);
  for (const gw of [B, C]) {
    const before = callsOf(key);
    await eventually(async () => (await generate(gw, `via ${gw.name}`, {token: g.token})).status === 200,
                     {...PROPAGATE, what: `${gw.name} serving with the key added on A`});
    assert.ok(callsOf(key) > before, `${gw.name} called the new key`);
  }
});

test('a key that answers API_KEY_INVALID on B is not called by A or C afterwards', async (t) => {
  const bad = poolKey('Invalid');
  const good = poolKey('Valid');
  const g = await group(t, {keys: [good, bad]});
  const [A, B, C] = g.gws;
  const badId = await idOf(g, A, bad);
  // B meets the invalid key (round-robin reaches it within two requests) and disables it.
  for (let i = 0; i < 4 && callsOf(bad) === 0; i++) {
    assert.equal((await generate(B, `b ${i}`, {token: g.token})).status, 200);
  }
  assert.equal(callsOf(bad), 1, 'B tried the invalid key once');
  for (const gw of [A, C]) {
    await eventually(async () => (await keyStatus(g, gw, badId)) === 'disabled',
                     {...PROPAGATE, what: `the key disabled on ${gw.name}`});
  }
  for (const gw of [A, C, B]) {
    for (let i = 0; i < 4; i++) {
      assert.equal((await generate(gw, `${gw.name} ${i}`, {token: g.token})).status, 200);
    }
  }
  assert.equal(callsOf(bad), 1, 'nobody called the invalid key again');
  // An admin enabling it on C is a later decision: it serves again everywhere (and fails again).
  ok(await api(g.admin(C), 'POST', `/admin/api/keys/${badId}/enable`));
  await eventually(async () => (await keyStatus(g, A, badId)) !== 'disabled',
                   {...PROPAGATE, what: 'the admin enable seen on A'});
});

test('a 429 cooldown learned on C is honoured by A', async (t) => {
  const quota = poolKey('Quota');  // 429 with RetryInfo 30 s
  const good = poolKey('Valid');
  const g = await group(t, {keys: [good, quota]});
  const [A, , C] = g.gws;
  const quotaId = await idOf(g, A, quota);
  for (let i = 0; i < 4 && callsOf(quota) === 0; i++) {
    assert.equal((await generate(C, `c ${i}`, {token: g.token})).status, 200);
  }
  assert.equal(callsOf(quota), 1, 'C met the quota error once');
  await eventually(async () => (await keyStatus(g, A, quotaId)) === 'cooling',
                   {...PROPAGATE, what: 'the cooldown seen on A'});
  for (let i = 0; i < 6; i++) {
    assert.equal((await generate(A, `a ${i}`, {token: g.token})).status, 200);
  }
  assert.equal(callsOf(quota), 1, 'A did not call the cooling key');
});

test('a session from A works on B; logout on B ends it on A; an admin token change ends all', async (t) => {
  const g = await group(t);
  const [A, B, C] = g.gws;
  const l = await login(g.admin(A));
  assert.equal(l.r.status, 200);
  assert.equal(await sessionStatus(g.admin(B), l.cookie), 200, 'the session from A works on B');
  assert.equal(await sessionStatus(g.admin(C), l.cookie), 200, 'and on C');
  const out = await api(g.admin(B), 'POST', '/admin/api/logout', {auth: 'cookie', cookie: l.cookie});
  assert.equal(out.status, 200, out.text);
  assert.equal(await sessionStatus(g.admin(A), l.cookie), 401, 'logged out on B: gone on A');
  assert.equal(await sessionStatus(g.admin(C), l.cookie), 401, 'and on C');

  const l2 = await login(g.admin(C));
  assert.equal(await sessionStatus(g.admin(A), l2.cookie), 200);
  const next = newAdminToken('grp2');
  registerSecret('the admin token', next);
  ok(await api(g.admin(B), 'PATCH', '/admin/api/settings', {body: {admin_token: next}}));
  assert.equal(await sessionStatus(g.admin(A), l2.cookie), 401, 'the token change ended the session');
  await eventually(async () => (await api({gw: A, adminToken: next}, 'GET', '/admin/api/session')).status === 200,
                   {...PROPAGATE, what: 'the new admin token accepted on A'});
  assert.equal((await api(g.admin(A), 'GET', '/admin/api/session')).status, 401,
               'the old admin token no longer works on A');
});

test("settings changed on B apply on A's next requests", async (t) => {
  const flaky = poolKey('Error500');
  const good = poolKey('Valid');
  // max_failures 0: no circuit breaker, so the failing key stays in the rotation.
  const g = await group(t, {keys: [good, flaky], settings: {max_failures: 0}});
  const [A, B] = g.gws;
  for (let i = 0; i < 4; i++) {
    assert.equal((await generate(A, `retried ${i}`, {token: g.token})).status, 200,
                 'A fails over from the 500 key while retries are allowed');
  }
  ok(await api(g.admin(B), 'PATCH', '/admin/api/settings', {body: {max_retries: 1}}));
  // One attempt per request (no retry): a request that meets the 500 key first gets its failure.
  await eventually(async () => (await generate(A, 'no retry', {token: g.token})).status >= 500,
                   {...PROPAGATE, what: "B's max_retries=1 applied on A"});
  const s = ok(await api(g.admin(A), 'GET', '/admin/api/settings'));
  assert.equal(s.items.find((x) => x.name === 'max_retries').value, 1);
});

test('killing A mid-traffic leaves B and C serving; logs of all land in one table', async (t) => {
  const g = await group(t, {keys: [poolKey('Valid'), poolKey('Valid')]});
  const [A, B, C] = g.gws;
  let stop = false;
  const failures = [];
  const served = {B: 0, C: 0};
  const loop = async (gw, name) => {
    while (!stop) {
      const r = await generate(gw, `load ${name}`, {token: g.token});
      if (r.status === 200) served[name]++;
      else failures.push(`${name}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  };
  const aLoad = (async () => { while (!stop) await generate(A, 'load A', {token: g.token}).catch(() => {}); })();
  const loops = [loop(B, 'B'), loop(C, 'C')];
  await eventually(() => served.B > 5 && served.C > 5, {...PROPAGATE, what: 'traffic'});
  const rowsOf = async (name) =>
    ok(await api(g.admin(B), 'GET', `/admin/api/logs?kind=request&instance=${name}&per_page=50`));
  // A's rows are written behind (every 250 ms): wait for some before killing it (kill -9 loses
  // what had not been written yet, by design).
  await eventually(async () => (await rowsOf('gw-A')).total > 0, {...PROPAGATE, what: "A's first rows"});
  A.proc.kill('SIGKILL');
  await A.exited;
  const at = {...served};
  await eventually(() => served.B > at.B + 10 && served.C > at.C + 10,
                   {...PROPAGATE, what: 'B and C serving after A died'});
  stop = true;
  await Promise.all([...loops, aLoad]);
  assert.deepEqual(failures, [], 'no request to B or C failed');
  // One log for the group, each row naming its instance.
  for (const name of ['gw-A', 'gw-B', 'gw-C']) {
    await eventually(async () => {
      const page = await rowsOf(name);
      return page.total > 0 && page.items.every((r) => r.instance_id === name);
    }, {...PROPAGATE, what: `request rows of ${name} on B`});
  }
  const all = ok(await api(g.admin(C), 'GET', '/admin/api/logs?kind=request&per_page=1'));
  const perInstance = await Promise.all(['gw-A', 'gw-B', 'gw-C'].map(async (name) =>
    ok(await api(g.admin(C), 'GET', `/admin/api/logs?kind=request&instance=${name}&per_page=1`)).total));
  assert.equal(perInstance.reduce((a, b) => a + b, 0), all.total, 'every row names one of the three');
});

test('unnamed gateways: on PostgreSQL each row names its <hostname>-<pid>, on SQLite it is empty',
     async (t) => {
  const g = await group(t, {n: 2, unnamed: true});
  const [A, B] = g.gws;
  for (const gw of [A, B]) assert.equal((await generate(gw, 'who', {token: g.token})).status, 200);
  let rows;
  await eventually(async () => {
    rows = ok(await api(g.admin(A), 'GET', '/admin/api/logs?kind=request&per_page=50')).items;
    return rows.length >= 2;
  }, {...PROPAGATE, what: 'both rows stored'});
  const ids = new Set(rows.map((r) => r.instance_id));
  if (g.onPostgres) {
    // A group's store: the rows of two gateways stay apart without a name.
    assert.equal(ids.size, 2, `two instance ids: ${[...ids]}`);
    for (const id of ids) assert.match(id, /-\d+$/, 'the <hostname>-<pid> default');
  } else {
    // A gateway alone on SQLite pays no instance index entry (storage/README: request log indexes).
    assert.deepEqual([...ids], [''], 'no instance id on SQLite without GEMGATE_INSTANCE_ID');
  }
});
