// GET /metrics: the Prometheus exposition after known traffic (exact counter values), checked
// by promtool (Debian package `prometheus`); access control (closed without a token, bearer
// token, a listener of its own that needs none); no secret ever in the scraped text.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {spawnSync} from 'node:child_process';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, streamGenerate, rawRequest, poolKey, clientToken, assertAbsent,
        eventually, DEFAULT_CONFIG} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const METRICS_TOKEN = 'mtok-' + 'x9Qv3LpT7wZr2sKd8hNf';

async function stack(t, opts = {}) {
  const s = await startStack({fake, ...opts});
  t.after(() => s.close());
  return s;
}

async function scrape(base, token = METRICS_TOKEN) {
  const r = await call(base, '/metrics', {token, via: 'bearer'});
  assert.equal(r.status, 200, `scrape answered ${r.status}: ${r.text.slice(0, 200)}`);
  return r;
}

/** Parses the exposition into {'name{label="v",...}': number} (labels as written). */
function samples(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

/** Runs `promtool check metrics` on `text`; fails clearly when promtool is not installed. */
function promtoolCheck(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
  if (r.error && r.error.code === 'ENOENT') {
    assert.fail('promtool not found: install the Debian package `prometheus` ' +
                '(apt-get install --no-install-recommends prometheus; conf/deps.sh does it)');
  }
  assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}`);
  assert.equal((r.stdout + r.stderr).trim(), '', `promtool has remarks:\n${r.stdout}${r.stderr}`);
}

const GEM = 'route="/v1beta/",chain="gemini"';

test('known traffic gives exact counters; promtool accepts the exposition', async (t) => {
  const quota = poolKey('Quota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [quota, good], env: {METRICS_TOKEN}});
  let promptTokens = 0, outTokens = 0;
  for (let i = 0; i < 4; i++) {
    const r = await generate(s.gw, `hello ${i}`, {token: s.token});
    assert.equal(r.status, 200);
    const u = r.json.usageMetadata;
    promptTokens += u.promptTokenCount;
    outTokens += (u.candidatesTokenCount || 0) + (u.thoughtsTokenCount || 0);
  }
  assert.equal(s.fake.callsFor(quota), 1, 'the quota key met exactly one request');
  const refused = await generate(s.gw, 'no', {token: clientToken('wrong')});
  assert.equal(refused.status, 401);
  // Answered by the server itself, before any chain: no route, and a malformed request.
  assert.equal((await call(s.gw, '/nowhere')).status, 404);
  const malformed = await rawRequest(s.gw.port, 'GET /v1beta/models HTTP/1.1\r\nHost: x\r\n' +
                                     'Content-Length: 1\r\nContent-Length: 2\r\n\r\n',
                                     {responses: 1});
  assert.equal(malformed.responses[0]?.status, 400);

  const r = await scrape(s.gw);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  promtoolCheck(r.text);
  const m = samples(r.text);
  const flash = 'model="gemini-2.5-flash"';
  assert.equal(m[`gemgate_http_requests_total{${GEM},code="2xx",${flash}}`], 4);
  assert.equal(m[`gemgate_http_requests_total{${GEM},code="4xx",model="none"}`], 1);
  assert.equal(m[`gemgate_upstream_retries_total{${GEM}}`], 1, 'one failover');
  assert.equal(m['gemgate_upstream_attempts_total{outcome="ok"}'], 4);
  assert.equal(m['gemgate_upstream_attempts_total{outcome="quota"}'], 1);
  assert.equal(m['gemgate_upstream_attempts_total{outcome="key_invalid"}'], 0);
  assert.equal(m['gemgate_keys{state="cooling"}'], 1);
  assert.equal(m['gemgate_keys{state="active"}'], 1);
  assert.equal(m['gemgate_key_cooldowns_total{kind="quota"}'], 1);
  assert.equal(m[`gemgate_tokens_total{${flash},direction="in"}`], promptTokens);
  assert.equal(m[`gemgate_tokens_total{${flash},direction="out"}`], outTokens);
  assert.equal(m[`gemgate_http_request_duration_seconds_count{${GEM}}`], 5);
  assert.equal(m[`gemgate_http_request_duration_seconds_bucket{${GEM},le="+Inf"}`], 5);
  assert.equal(m[`gemgate_http_time_to_first_byte_seconds_count{${GEM}}`], 5);
  assert.equal(m['gemgate_http_rejected_total{code="4xx"}'], 2);
  assert.equal(m.gemgate_open_streams, 0);
  assert.equal(m.gemgate_buffered_request_bytes, 0);
  assert.ok(m.gemgate_open_connections >= 1, 'the scrape itself holds a connection');
  assert.equal(m.gemgate_storage_rows_dropped_total, 0);
  assert.ok('gemgate_storage_queue_rows' in m);

  // A disabled key is one state change, however many requests follow.
  const s2 = await stack(t, {keys: [poolKey('Invalid'), poolKey('Valid')], env: {METRICS_TOKEN}});
  for (let i = 0; i < 5; i++) assert.equal((await generate(s2.gw, `x ${i}`, {token: s2.token})).status, 200);
  const m2 = samples((await scrape(s2.gw)).text);
  assert.equal(m2['gemgate_upstream_attempts_total{outcome="key_invalid"}'], 1);
  assert.equal(m2['gemgate_key_state_changes_total{change="disabled"}'], 1);
  assert.equal(m2['gemgate_keys{state="disabled"}'], 1);
  const lines = s2.gw.output.map((o) => o.text).join('').split('\n');
  assert.equal(lines.filter((l) => l.includes('key disabled')).length, 1,
               'one log line for the state change');
});

test('a stream counts as open while it runs and the model label stays bounded', async (t) => {
  const s = await stack(t, {env: {METRICS_TOKEN}});
  // Chunks 400 ms apart: the scrape after the first one finds the stream still running.
  const res = await streamGenerate(s.gw, 'stream me [[chunks=4 interval=400]]', {token: s.token});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-request-id') || '', /^req-/, 'a stream names its request too');
  const reader = res.body.getReader();
  await reader.read();
  const during = samples((await scrape(s.gw)).text);
  assert.equal(during.gemgate_open_streams, 1, 'the running stream is counted');
  while (!(await reader.read()).done) { /* drain */ }
  // Hostile model names: each new one would be a new series without the cap.
  for (let i = 0; i < 40; i++) {
    await generate(s.gw, 'm', {token: s.token, model: `no-such-model-${i}`});
  }
  const text = (await scrape(s.gw)).text;
  promtoolCheck(text);
  const m = samples(text);
  assert.equal(m.gemgate_open_streams, 0, 'the finished stream is no longer open');
  const models = new Set([...text.matchAll(/model="([^"]*)"/g)].map((x) => x[1]));
  assert.ok(models.size <= 25, `model label values are capped, got ${models.size}`);
  assert.ok(models.has('other'), 'names beyond the cap share "other"');
});

test('access: closed without a token, 401 for a missing or wrong bearer, 200 for the right one', async (t) => {
  const closed = await stack(t);
  const none = await call(closed.gw, '/metrics');
  assert.equal(none.status, 404, 'no metrics_token: /metrics does not exist');
  assert.equal((await call(closed.gw, '/metrics', {token: 'anything-at-all-1234', via: 'bearer'})).status, 404);

  const s = await stack(t, {env: {METRICS_TOKEN}});
  const missing = await call(s.gw, '/metrics');
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
  assert.ok(!missing.text.includes('gemgate_'), 'a refusal shows no metric');
  assert.equal((await call(s.gw, '/metrics', {token: METRICS_TOKEN + 'x', via: 'bearer'})).status, 401);
  assert.equal((await call(s.gw, '/metrics', {token: s.token, via: 'bearer'})).status, 401,
               'a client token is not the metrics token');
  assert.equal((await call(s.gw, '/metrics', {token: METRICS_TOKEN, via: 'query'})).status, 401,
               'the token is accepted as a bearer only');
  await scrape(s.gw);
  const post = await call(s.gw, '/metrics', {token: METRICS_TOKEN, via: 'bearer', body: {}});
  assert.equal(post.status, 405);
});

test('a listener with routes of its own serves /metrics without a token, and nothing else', async (t) => {
  const base = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  const anchor = 'listeners:\n  - address: 0.0.0.0:8080\n';
  assert.ok(base.includes(anchor), 'conf/gemgate.yaml layout changed: update this test');
  const yaml = base.replace(anchor, anchor +
      '  - address: 127.0.0.1:0\n    routes: [{ path: /metrics, chain: metrics_open }]\n');
  const s = await stack(t, {configYaml: yaml});
  // The harness returns at the first "listening on" line; the second follows at once.
  const listening = () => [...s.gw.output.map((o) => o.text).join('')
      .matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((x) => Number(x[1]));
  await eventually(() => listening().length === 2, {what: 'two "listening on" lines'});
  const ports = listening();
  const side = `http://127.0.0.1:${ports[1]}`;
  assert.equal(ports[0], s.gw.port);
  assert.equal((await generate(s.gw, 'hi', {token: s.token})).status, 200);
  // The exchange is counted when it ends, which may be just after the client read its answer.
  const counted = `gemgate_http_requests_total{${GEM},code="2xx",model="gemini-2.5-flash"}`;
  let r;
  await eventually(async () => {
    r = await call(side, '/metrics');
    return r.status === 200 && samples(r.text)[counted] !== undefined;
  }, {what: 'the request counted on the metrics listener'});
  promtoolCheck(r.text);
  assert.equal(samples(r.text)[counted], 1);
  assert.equal((await call(s.gw, '/metrics')).status, 404, 'the public listener stays closed');
  assert.equal((await generate(side, 'hi', {token: s.token})).status, 404,
               'the metrics listener serves its own routes only');
  assert.equal((await call(side, '/admin')).status, 404);
});

test('no secret in /metrics or the log, even a token sent as a model name', async (t) => {
  const key = poolKey('Valid');
  const s = await stack(t, {keys: [key], env: {METRICS_TOKEN}});
  await generate(s.gw, 'hi', {token: s.token});
  await generate(s.gw, 'hi', {token: s.token, model: s.token});
  await generate(s.gw, 'hi', {token: s.token, model: METRICS_TOKEN});
  await generate(s.gw, 'hi', {token: s.token, model: key});
  await call(s.gw, '/metrics', {token: METRICS_TOKEN.slice(0, -1) + 'Z', via: 'bearer'});
  const text = (await scrape(s.gw)).text;
  promtoolCheck(text);
  const secrets = {'a pool key': key, 'a client token': s.token, 'the metrics token': METRICS_TOKEN};
  assertAbsent(text, secrets, '/metrics');
  assertAbsent(s.gw.output.map((o) => o.text).join(''), secrets, 'the gateway log');
});
