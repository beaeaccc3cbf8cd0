// Reload without a restart: SIGHUP (and POST /admin/api/reload) re-read the YAML while clients
// keep calling. New routes, limits and filter configs apply to new requests and connections; a
// stream in flight finishes on the old configuration; an invalid file keeps the old one running
// and every error is logged (and returned by the API); parts that need a restart are reported;
// no SIGHUP ever ends the process.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {DEFAULT_CONFIG, call, generate, streamGenerate, sseEvents, rawRequest, eventually,
        sleep, startGateway} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const BASE = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
const APPLIED = /reload: configuration applied/g;
const REFUSED = /reload: \d+ error\(s\); the running configuration is unchanged/g;

/** `text` with each [from, to] replaced, failing loudly when `from` is not there. */
function edit(text, ...pairs) {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `config text has ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

const count = (gw, re) => (gw.logs().match(re) || []).length;

/** Writes the config, sends SIGHUP and waits until the gateway logged the outcome. */
async function hup(gw, text, outcome = APPLIED) {
  fs.writeFileSync(gw.configPath, text);
  const before = count(gw, outcome);
  gw.proc.kill('SIGHUP');
  await eventually(() => count(gw, outcome) > before, {timeoutMs: 5000, what: `reload (${outcome})`});
}

const ROUTE = ['  - { path: /healthz, chain: health }',
               '  - { path: /healthz, chain: health }\n  - { path: /healthz2, chain: health }'];
const LIMIT = ['max_body_bytes: 16MiB', 'max_body_bytes: 4KiB'];
const AUTH = ['sources: [query, goog_header, bearer]', 'sources: [goog_header, bearer]'];

test('SIGHUP during steady traffic: zero failed requests, the stream finishes, changes apply', async (t) => {
  const s = await startStack({fake, configYaml: BASE});
  t.after(() => s.close());
  const gw = s.gw;

  // Steady traffic: four keep-alive clients, one request after another, until told to stop.
  let stop = false;
  const failures = [];
  let served = 0;
  const client = async (n) => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await generate(gw, `steady ${n}.${i}`, {token: s.token});
        if (r.status === 200) served++;
        else failures.push(`${r.status} ${r.text.slice(0, 200)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  // A long stream in flight across every reload below.
  const stream = streamGenerate(gw, 'long [[chunks=40 interval=100]]', {token: s.token})
      .then((res) => sseEvents(res));

  assert.equal((await call(gw, '/healthz2')).status, 404, 'no such route yet');

  // 1. A new route.
  let text = edit(BASE, ROUTE);
  await hup(gw, text);
  assert.equal((await call(gw, '/healthz2')).status, 200, 'the new route serves after the reload');

  // 2. A changed limit: a new connection gets it.
  text = edit(text, LIMIT);
  await hup(gw, text);
  const big = JSON.stringify({contents: [{parts: [{text: 'x'.repeat(8192)}]}]});
  const r413 = await rawRequest(gw.port,
      `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nhost: x\r\n` +
      `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
      `content-length: ${big.length}\r\nconnection: close\r\n\r\n${big}`, {responses: 1});
  assert.match(r413.text, /^HTTP\/1\.1 413/, 'max_body_bytes 4KiB applies to a new connection');

  // 3. A changed filter config: the gemini chain no longer reads ?key=.
  assert.equal((await generate(gw, 'query before', {token: s.token, via: 'query'})).status, 200);
  text = edit(text, AUTH);
  await hup(gw, text);
  assert.equal((await generate(gw, 'query after', {token: s.token, via: 'query'})).status, 401);
  assert.equal((await generate(gw, 'header after', {token: s.token})).status, 200);

  // 4. An invalid file: every error logged, the old configuration keeps running.
  const broken = edit(text, ['head_timeout: 10s', 'head_timeout: soon'],
                      ['body_timeout: 30s', 'body_timout: 30s'],
                      ['      - retry: {}\n      - keys: {}\n      - upstream:\n          base_url: *google\n\n  # The OpenAI',
                       '      - retry: {}\n      - kees: {}\n      - upstream:\n          base_url: *google\n\n  # The OpenAI']);
  const from = gw.logs().length;
  await hup(gw, broken, REFUSED);
  const logged = gw.logs().slice(from);
  assert.match(logged, /gemgate\.test\.yaml:\d+:\d+: 'head_timeout' must be a duration/);
  assert.match(logged, /gemgate\.test\.yaml:\d+:\d+: unknown key 'body_timout' \(did you mean 'body_timeout'\?\)/);
  assert.match(logged, /gemgate\.test\.yaml:\d+:\d+: unknown filter 'kees' \(did you mean 'keys'\?\)/);
  assert.equal((await call(gw, '/healthz2')).status, 200, 'the old routes still serve');
  assert.equal((await generate(gw, 'query still off', {token: s.token, via: 'query'})).status, 401);

  // 5. Fifty SIGHUPs in a burst: the process survives them all (they coalesce into a few reloads).
  fs.writeFileSync(gw.configPath, text);
  const applied = count(gw, APPLIED);
  for (let i = 0; i < 50; i++) {
    gw.proc.kill('SIGHUP');
    if (i % 10 === 9) await sleep(5);
  }
  await eventually(() => count(gw, APPLIED) > applied, {timeoutMs: 5000, what: 'a reload after the burst'});
  await sleep(200);
  assert.equal(gw.exitInfo, null, 'still running after 50 SIGHUPs');
  assert.equal((await call(gw, '/healthz2')).status, 200);

  stop = true;
  await Promise.all(clients);
  const sse = await stream;
  assert.deepEqual(failures, [], 'no request failed during the reloads');
  assert.ok(served > 20, `steady traffic was served (${served})`);
  assert.ok(sse.complete, 'the stream in flight finished normally');
  assert.equal(sse.events.filter((e) => e.json?.candidates).length, 40, 'with all its chunks');
  // A stop after all that is still the graceful one.
  const end = await gw.stop();
  assert.equal(end.code, 0);
});

test('POST /admin/api/reload applies a valid file, reports restart-only changes and returns every error', async (t) => {
  const admin = 'reload-admin-token-0123456789';
  const s = await startStack({fake, configYaml: BASE, authToken: admin});
  t.after(() => s.close());
  const gw = s.gw;
  const reload = () => call(gw, '/admin/api/reload', {method: 'POST', body: {},
                                                      headers: {authorization: `Bearer ${admin}`}});
  const anonymous = await call(gw, '/admin/api/reload', {method: 'POST', body: {}});
  assert.equal(anonymous.status, 401, 'the admin token is required');

  fs.writeFileSync(gw.configPath, edit(BASE, ROUTE));
  const ok = await reload();
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, {ok: true, errors: [], restart_required: []});
  assert.equal((await call(gw, '/healthz2')).status, 200);

  fs.writeFileSync(gw.configPath, edit(BASE, ROUTE, ['workers: 0', 'workers: 3'],
                                       ['database_url: ${DATABASE_URL:-file:./data/gemgate.db}',
                                        'database_url: file:./elsewhere.db']));
  const restart = await reload();
  assert.equal(restart.status, 200, restart.text);
  assert.equal(restart.json.ok, true);
  assert.equal(restart.json.restart_required.length, 2, restart.text);
  assert.match(restart.json.restart_required[0], /^workers \(running: 0; file: 3\)/);
  assert.equal(restart.json.restart_required[1], 'storage.database_url');
  assert.match(gw.logs(), /reload: changed but kept until a restart: workers/);

  fs.writeFileSync(gw.configPath, edit(BASE, ['head_timeout: 10s', 'head_timeout: soon'],
                                       ['  - { prefix: /v1beta/, chain: gemini }',
                                        '  - { prefix: /v1beta/, chain: gemnii }']));
  const bad = await reload();
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.ok, false);
  assert.equal(bad.json.errors.length, 2, bad.text);
  for (const e of bad.json.errors) {
    assert.equal(e.file, gw.configPath);
    assert.ok(e.line > 0 && e.column > 0, JSON.stringify(e));
  }
  assert.match(bad.json.errors[0].message, /'head_timeout' must be a duration/);
  assert.match(bad.json.errors[1].message, /unknown chain 'gemnii' \(did you mean 'gemini'\?\)/);
  assert.equal((await call(gw, '/healthz2')).status, 200, 'the running configuration is unchanged');
  assert.equal((await generate(gw, 'still fine', {token: s.token})).status, 200);
});

test('a reload makes settings: the new defaults; a value an admin stored keeps winning', async (t) => {
  const admin = 'reload-admin-token-0123456789';
  const s = await startStack({fake, configYaml: BASE, authToken: admin});
  t.after(() => s.close());
  const gw = s.gw;
  const auth = {authorization: `Bearer ${admin}`};
  const patch = await call(gw, '/admin/api/settings', {method: 'PATCH', headers: auth,
                                                       body: {cooldown_default_s: 77}});
  assert.equal(patch.status, 200, patch.text);
  await hup(gw, edit(BASE, ['max_retries: 3 ', 'max_retries: 5 '],
                     ['cooldown_default_s: 60 ', 'cooldown_default_s: 90 ']));
  const got = await eventually(async () => {
    const r = await call(gw, '/admin/api/settings', {headers: auth});
    const by = Object.fromEntries(r.json.items.map((i) => [i.name, i]));
    return by.max_retries.value === 5 ? by : null;
  }, {what: 'the new settings snapshot'});
  assert.equal(got.max_retries.value, 5, 'never changed by an admin: the file\'s new value');
  assert.equal(got.max_retries.overridden, false);
  assert.equal(got.cooldown_default_s.value, 77, 'the admin\'s value still wins');
  assert.equal(got.cooldown_default_s.default, 90, 'with the file\'s value as its new default');
});

test('SIGHUP during the shutdown drain ends nothing: the stream finishes and the exit is 0', async (t) => {
  const s = await startStack({fake, configYaml: BASE});
  t.after(() => s.close());
  const gw = s.gw;
  const res = await streamGenerate(gw, 'drain [[chunks=20 interval=100]]', {token: s.token});
  const events = sseEvents(res);
  await eventually(() => fake.stats().total > 0, {what: 'the stream reached the upstream'});
  gw.proc.kill('SIGTERM');
  await eventually(() => /stopping/.test(gw.logs()), {what: 'the drain'});
  for (let i = 0; i < 5; i++) gw.proc.kill('SIGHUP');
  const sse = await events;
  assert.ok(sse.complete, 'the stream finished');
  assert.equal(sse.events.filter((e) => e.json?.candidates).length, 20);
  const exit = await gw.exited;
  assert.deepEqual(exit, {code: 0, signal: null}, 'a graceful exit, not SIGHUP\'s default action');
});

test('a SIGHUP sent the moment the gateway says it listens is a reload, never lost', async (t) => {
  // Whoever starts gemgate waits for "listening on" and may signal at once. The watcher used to
  // be installed after that line, and a SIGHUP before it was ignored: the reload was lost (1 start
  // in 20 on a quiet machine, most of them under load).
  for (let i = 0; i < 20; i++) {
    const gw = await startGateway({upstream: fake, env: {DATABASE_URL: ':memory:'}});
    t.after(() => gw.dispose());
    gw.proc.kill('SIGHUP');
    await eventually(() => count(gw, APPLIED) === 1, {timeoutMs: 5000, what: `reload of start ${i}`});
    await gw.stop();
  }
});
