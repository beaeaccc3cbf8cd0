// Adversarial checks of the admin credentials and of secrets in logs and storage:
//  6. wrong `Authorization: Bearer` guesses at /admin share the login throttle (same budget per
//     address, then 429 + Retry-After for every credential from there, the right one too), and a
//     flood of them writes a bounded number of log lines;
//  7. every configured secret (admin token, cron secret, pool keys, client tokens) and the
//     credential a request presented (right or wrong) is masked in the gateway's log and never
//     reaches the SQLite files (request_log, usage rollups), in any position of a path or model;
//  9. an image URL spelling the (private, pooled) upstream's address differently — 127.1,
//     2130706433, 0x7f000001 — is refused and never fetched, even over a warm pooled connection.
// Each test fails against the code before the fix (checked with GEMGATE_BIN=<main's binary>).
// Loopback only, bounded in time.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, poolKey, clientToken, collectGatewayLogs, DEFAULT_CONFIG, assertAbsent}
  from '../support/gateway.mjs';
import {adminStack, newAdminToken} from '../integration/admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** Sends `n` GETs to `p` with `headers` over a few keep-alive connections; returns the answers. */
async function flood(gw, p, headers, n, concurrency = 16) {
  const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});
  const out = [];
  let next = 0;
  const one = () => new Promise((resolve) => {
    const req = http.get({host: '127.0.0.1', port: gw.port, path: p, headers, agent}, (res) => {
      res.resume();
      res.on('end', () => resolve({status: res.statusCode, retryAfter: res.headers['retry-after']}));
    });
    req.on('error', (e) => resolve({status: 0, error: e.message}));
  });
  async function worker() {
    while (next < n) {
      next++;
      out.push(await one());
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker));
  agent.destroy();
  return out;
}

function countBy(answers) {
  const c = {};
  for (const a of answers) c[a.status] = (c[a.status] || 0) + 1;
  return c;
}

// ---------------------------------------------------------------------------------------------
// 6. The admin bearer is throttled like logins

test('6: wrong admin bearers are throttled per address like failed logins; the log stays small',
     async (t) => {
  const s = await adminStack(t, fake);
  const guesses = 3000;
  const answers = await flood(s.gw, '/admin/api/session',
                              {authorization: `Bearer ${newAdminToken('guess')}`}, guesses);
  const c = countBy(answers);
  // The login throttle's budget: 10 failures a minute per address; every later guess is 429.
  assert.ok((c[401] || 0) <= 10, `at most the budget of guesses is checked: ${JSON.stringify(c)}`);
  assert.ok((c[429] || 0) >= guesses - 10, `the rest is refused unchecked: ${JSON.stringify(c)}`);
  for (const a of answers.filter((x) => x.status === 429)) {
    assert.ok(Number(a.retryAfter) >= 1 && Number(a.retryAfter) <= 60,
              `429 with Retry-After in seconds: ${a.retryAfter}`);
  }
  // While throttled, the right token is refused as well (as a login with it is): otherwise the
  // answer to a guess would reveal the right one.
  const right = await call(s.gw, '/admin/api/session',
                           {headers: {authorization: `Bearer ${s.adminToken}`}});
  assert.equal(right.status, 429, `the right bearer from a throttled address: ${right.text}`);
  assert.ok(Number(right.headers.get('retry-after')) >= 1);
  const login = await call(s.gw, '/admin/api/login', {body: {token: s.adminToken}});
  assert.equal(login.status, 429, 'one budget: the login from there is throttled too');

  await s.gw.stop();
  const lines = collectGatewayLogs(s.gw).split('\n');
  const about = lines.filter((l) => /\/admin\/api\/session|refused credentials/.test(l));
  assert.ok(about.length <= 10,
            `${guesses} wrong guesses wrote ${about.length} log lines (want a handful):\n` +
            about.slice(0, 5).join('\n'));
  assert.ok(lines.length < 100, `the whole log stays small: ${lines.length} lines`);
  assert.ok(about.some((l) => /refused credentials from 127\.0\.0\.1/.test(l)),
            'the refusals are reported');
  assertAbsent(collectGatewayLogs(s.gw), {'the admin token': s.adminToken}, 'gateway logs');
});

test('6: the right bearer works until the budget is spent, and resets it like a login',
     async (t) => {
  const s = await adminStack(t, fake);
  const wrong = {authorization: `Bearer ${newAdminToken('guess')}`};
  const rightH = {authorization: `Bearer ${s.adminToken}`};
  for (let i = 0; i < 9; i++) assert.equal((await call(s.gw, '/admin/api/session', {headers: wrong})).status, 401);
  assert.equal((await call(s.gw, '/admin/api/session', {headers: rightH})).status, 200);
  // A success forgets the failures (as a successful login does): 10 more wrong ones are checked.
  for (let i = 0; i < 10; i++) assert.equal((await call(s.gw, '/admin/api/session', {headers: wrong})).status, 401);
  const r = await call(s.gw, '/admin/api/session', {headers: wrong});
  assert.equal(r.status, 429);
});

// ---------------------------------------------------------------------------------------------
// 7. Secrets in paths never reach the log or the database

/** Every byte of the SQLite files (main database, WAL, shared memory), as latin1 text. */
function databaseBytes(dataDir) {
  let all = '';
  for (const f of fs.readdirSync(dataDir)) {
    if (f.startsWith('gemgate.db')) all += fs.readFileSync(path.join(dataDir, f)).toString('latin1');
  }
  return all;
}

test('7: secrets in any position of a path or model are masked in the log and the database',
     async (t) => {
  const pool = poolKey('Valid');
  const token = clientToken('pathcanary');
  const wrong = clientToken('wrongpathcanary');
  const adminToken = newAdminToken('pathadmin');
  const cron = `cron-${clientToken('pathcron')}`;
  const s = await startStack({fake, keys: [pool], tokens: [token], authToken: adminToken,
                              cronSecret: cron, env: {GEMGATE_LOG_LEVEL: 'debug'}});
  t.after(() => s.close());
  const gw = s.gw;
  // A client token as the model, right and wrong, in every credential position.
  await call(gw, `/v1beta/models/${token}`, {token, via: 'query'});
  await call(gw, `/v1beta/models/${token}`, {token, via: 'header'});
  await call(gw, `/v1beta/models/x${token}y`, {token, via: 'bearer'});
  await call(gw, `/v1beta/models/${wrong}`, {token: wrong, via: 'header'});
  await call(gw, `/v1beta/models/${wrong}:generateContent`, {token: wrong, via: 'query',
                                                             body: {contents: []}});
  await generate(gw, 'hi', {token, model: token});
  await generate(gw, 'hi', {token, model: `models-${token}`});
  // The OpenAI front with the token as the model name.
  await call(gw, '/v1/chat/completions', {token, via: 'bearer',
      body: {model: token, messages: [{role: 'user', content: 'hi'}]}});
  // A pool key in a path.
  await call(gw, `/v1beta/models/${pool}`, {token, via: 'query'});
  // The admin token and the cron secret in admin and cron paths.
  await call(gw, `/admin/${adminToken}`);
  await call(gw, `/admin/api/${adminToken}`, {headers: {authorization: `Bearer ${adminToken}`}});
  await call(gw, `/api/cron/health-check/${cron}`);
  await call(gw, `/api/cron/${cron}`, {headers: {authorization: `Bearer ${cron}`}});
  await call(gw, `/v1beta/models/${adminToken}`, {token, via: 'query'});
  await call(gw, `/v1beta/models/${cron}`, {token, via: 'query'});
  assert.ok(s.fake.stats().total >= 1, 'some traffic really went upstream');

  // What the stored rows say, through the admin API, before stopping.
  const logs = await call(gw, '/admin/api/logs?kind=request&per_page=200',
                          {headers: {authorization: `Bearer ${adminToken}`}});
  assert.equal(logs.status, 200);
  assert.ok(logs.json.items.length >= 8, `request rows were stored: ${logs.json.items.length}`);
  const stats = await call(gw, '/admin/api/stats?window=24h',
                           {headers: {authorization: `Bearer ${adminToken}`}});
  assert.equal(stats.status, 200);

  const stop = await gw.stop();
  assert.equal(stop.code, 0);
  const all = {'client token': token, 'wrong client token': wrong, 'admin token': adminToken,
               'cron secret': cron, 'pool key': pool};
  assertAbsent(collectGatewayLogs(gw), all, 'gateway logs');
  assertAbsent(logs.text, all, 'stored request rows');
  assertAbsent(stats.text, all, 'usage rollups (stats)');
  // Pool keys are encrypted at rest, so the raw bytes hold none of the secrets at all.
  assertAbsent(databaseBytes(gw.dataDir), all, 'the SQLite files');
});

test('7: a cron secret written into the YAML itself is masked like one from the environment',
     async (t) => {
  const literal = `yamlcron-${clientToken('literal')}`;
  const yaml = fs.readFileSync(DEFAULT_CONFIG, 'utf8')
    .replace('secret: ${CRON_SECRET:-}', `secret: ${literal}`);
  assert.ok(yaml.includes(literal), 'the default config names the cron secret');
  const token = clientToken('yamlcrontok');
  const s = await startStack({fake, tokens: [token], configYaml: yaml});
  t.after(() => s.close());
  const gw = s.gw;
  await call(gw, `/api/cron/health-check/${literal}`);
  await call(gw, `/v1beta/models/${literal}`, {token, via: 'query'});
  const ok = await call(gw, '/api/cron/health-check', {headers: {authorization: `Bearer ${literal}`}});
  assert.equal(ok.status, 200, 'the literal secret is the cron secret');
  await gw.stop();
  assertAbsent(collectGatewayLogs(gw), {'cron secret from the YAML': literal}, 'gateway logs');
  assertAbsent(databaseBytes(gw.dataDir), {'cron secret from the YAML': literal}, 'the SQLite files');
});

// ---------------------------------------------------------------------------------------------
// 9. Image fetches never ride a pooled connection to a private upstream

test('9: image URLs spelling the pooled private upstream differently are never fetched',
     async (t) => {
  // One worker, so the warm connection and the image fetch share one connection pool.
  const yaml = fs.readFileSync(DEFAULT_CONFIG, 'utf8').replace(/^workers: \d+/m, 'workers: 1');
  const s = await startStack({fake, configYaml: yaml});
  t.after(() => s.close());
  const p = s.fake.port;
  const problems = [];
  for (const host of ['127.1', '2130706433', '0x7f000001', '127.0.0.1']) {
    // Warm: an ordinary call leaves an idle pooled connection to 127.0.0.1:<port>.
    const warm = await generate(s.gw, 'warm', {token: s.token});
    assert.equal(warm.status, 200);
    s.fake.reset();
    const url = `http://${host}:${p}/img-${host}.png`;
    const r = await call(s.gw, '/v1/chat/completions', {token: s.token, via: 'bearer', body: {
      model: 'gemini-2.5-flash', messages: [{role: 'user', content: [
        {type: 'text', text: 'what is this?'}, {type: 'image_url', image_url: {url}}]}]}});
    const fetched = s.fake.requests().filter((q) => q.path.startsWith('/img-'));
    if (r.status !== 400) problems.push(`${host}: answered ${r.status}`);
    if (fetched.length) problems.push(`${host}: the upstream saw the image fetch ${fetched[0].path}`);
    if (s.fake.stats().total !== 0) problems.push(`${host}: something reached the upstream`);
  }
  assert.deepEqual(problems, []);
});
