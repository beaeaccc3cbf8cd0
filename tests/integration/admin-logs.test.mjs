// Request/error logs and usage statistics through the admin API, checked against proxied
// traffic whose every answer the test recorded: newest-first rows with model/key/status/tokens,
// filters (status code and class, key, model, time), paging totals, error rows for quota and
// rejected keys, deletes by ids / filter / all, and stats windows whose totals and per-key /
// per-model breakdowns match the traffic.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {requestUntil} from '../support/stack.mjs';
import {generate, call, poolKey, sleep} from '../support/gateway.mjs';
import {adminStack, api, ok, adminError, mask, allKeys, scannedCount, eventually} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => {
  await s?.close();
  await fake.close();
});

const REQUEST_FIELDS = ['id', 'time', 'route', 'method', 'path', 'model', 'key_id', 'failed_key_ids', 'token_id', 'status',
                        'latency_ms', 'attempts', 'stream', 'prompt_tokens', 'completion_tokens', 'total_tokens',
                        'error'];
const ERROR_FIELDS = ['id', 'time', 'key_id', 'model', 'status', 'kind', 'message', 'route'];

/** Every row of a log (all pages) for `query`. */
async function allRows(s, query) {
  const rows = [];
  for (let page = 1; ; page++) {
    const j = ok(await api(s, 'GET', `/admin/api/logs?${query}&per_page=100&page=${page}`));
    rows.push(...j.items);
    if (rows.length >= j.total || j.items.length === 0) return {rows, total: j.total};
  }
}

const logs = (st, q) => api(st, 'GET', `/admin/api/logs?${q}`).then(ok);
const del = (st, body) => api(st, 'DELETE', '/admin/api/logs', {body}).then(ok);

// One gateway and one body of traffic for the whole file: the tests below read it in order
// (stats before deletes).
let s, traffic, keyIds, tMid;

test('setup: proxied traffic of known shape', async (t) => {
  const bad = poolKey('Invalid'), quota = poolKey('Cool'), denied = poolKey('Denied');
  const good1 = poolKey('Valid'), good2 = poolKey('Valid');
  // The stack lives until the end of the file (closed by the file's after hook).
  const holder = {after: () => {}};
  s = await adminStack(holder, fake, {keys: [bad, quota, denied, good1, good2], settings: {max_retries: 5}});
  s.fake.setKeyMode(quota, 'quota', {retryDelay: 300});
  s.secrets = {bad, quota, denied, good1, good2};
  traffic = [];  // {status, model, phase}
  const send = async (phase, model, text, o = {}) => {
    const r = await generate(s.gw, text, {token: s.token, model, ...o});
    // A request refused before auth is counted, not logged (hardening item 8).
    traffic.push({status: r.status, model, phase, authed: o.token !== null,
                  refused: o.token === null});
    return r;
  };
  // Phase A: until the rejected and the quota key were met, then other models and errors.
  const n = await requestUntil(s, () => s.fake.callsFor(bad) && s.fake.callsFor(quota) && s.fake.callsFor(denied));
  for (let i = 0; i < n; i++) traffic.push({status: 200, model: 'gemini-2.5-flash', phase: 'A', authed: true});
  await send('A', 'gemini-2.5-pro', 'pro 1');
  await send('A', 'gemini-2.5-pro', 'pro 2');
  await send('A', 'no-such-model', 'unknown model');
  await send('A', 'gemini-2.5-flash', 'no token', {token: null});
  await sleep(40);
  tMid = Date.now();
  await sleep(40);
  // Phase B.
  await send('B', 'gemini-2.5-flash', 'b1');
  await send('B', 'gemini-2.5-flash', 'b2');
  await send('B', 'gemini-2.5-flash', 'client error [[status=400]]');
  assert.deepEqual(traffic.map((x) => x.status).filter((x) => x !== 200).sort(), [400, 401, 404],
                   `statuses: ${traffic.map((x) => x.status)}`);
  keyIds = Object.fromEntries((await allKeys(s)).map((k) => [k.masked, k.id]));
  const logged = traffic.filter((x) => !x.refused).length;
  await eventually(async () => (await logs(s, 'kind=request')).total === logged,
                   {what: `${logged} request rows`, timeoutMs: 5000});
});

const idOf = (secret) => keyIds[mask(secret)];

test('request rows: newest first, with model, key, token, status and tokens', async () => {
  const {rows, total} = await allRows(s, 'kind=request');
  assert.equal(total, traffic.filter((x) => !x.refused).length);
  for (const r of rows) for (const f of REQUEST_FIELDS) assert.ok(f in r, `row has ${f}: ${JSON.stringify(r)}`);
  for (let i = 1; i < rows.length; i++) {
    assert.ok(rows[i - 1].time > rows[i].time || (rows[i - 1].time === rows[i].time && rows[i - 1].id > rows[i].id),
              'newest first');
  }
  const goodIds = [idOf(s.secrets.good1), idOf(s.secrets.good2)];
  const oks = rows.filter((r) => r.status === 200);
  assert.equal(oks.length, traffic.filter((x) => x.status === 200).length);
  for (const r of oks) {
    assert.ok(goodIds.includes(r.key_id), `a 200 was served by a good key (${r.key_id})`);
    assert.ok(r.total_tokens > 0 && r.prompt_tokens > 0 && r.completion_tokens > 0, `tokens: ${JSON.stringify(r)}`);
    assert.ok(typeof r.token_id === 'number', 'the client token id is recorded');
    assert.equal(r.method, 'POST');
    assert.equal(r.path, `/v1beta/models/${r.model}:generateContent`);
    assert.equal(r.stream, false);
    assert.ok(r.attempts >= 1);
  }
  const newest = rows[0];
  assert.equal(newest.status, 400, 'the last request is the first row');
  // The unauthenticated request was refused by auth: counted (stats `refused`), not a row.
  assert.equal(rows.filter((r) => r.status === 401).length, 0);
  const retried = rows.filter((r) => r.attempts > 1);
  assert.ok(retried.length >= 1, 'requests that failed over show several attempts');
});

test('filters: status code and class, key, model, time; paging totals', async () => {
  const count = (pred) => traffic.filter(pred).length;
  const st200 = await allRows(s, 'kind=request&status=200');
  assert.equal(st200.total, count((x) => x.status === 200));
  assert.ok(st200.rows.every((r) => r.status === 200));
  const c4 = await allRows(s, 'kind=request&status=4xx');
  assert.equal(c4.total, 2);  // the 401 refused before auth is counted, not logged
  assert.deepEqual(c4.rows.map((r) => r.status).sort(), [400, 404]);
  assert.equal((await logs(s, 'kind=request&status=404')).total, 1);
  assert.equal((await logs(s, 'kind=request&status=2xx')).total, st200.total);
  assert.equal((await logs(s, 'kind=request&status=5xx')).total, 0);
  const pro = await allRows(s, 'kind=request&model=gemini-2.5-pro');
  assert.equal(pro.total, 2);
  assert.ok(pro.rows.every((r) => r.model === 'gemini-2.5-pro'));
  const all = await allRows(s, 'kind=request');
  for (const secret of [s.secrets.good1, s.secrets.good2]) {
    const id = idOf(secret);
    const byKey = await allRows(s, `kind=request&key=${id}`);
    assert.equal(byKey.total, all.rows.filter((r) => r.key_id === id).length);
    assert.ok(byKey.total >= 1, 'each good key served something');
    assert.ok(byKey.rows.every((r) => r.key_id === id));
  }
  const later = await allRows(s, `kind=request&from=${tMid}`);
  assert.equal(later.total, count((x) => x.phase === 'B'));
  assert.ok(later.rows.every((r) => r.time >= tMid));
  const earlier = await allRows(s, `kind=request&to=${tMid}`);
  assert.equal(earlier.total, count((x) => x.phase === 'A' && !x.refused));
  assert.equal((await logs(s, `kind=request&from=${tMid}&status=200`)).total, 2, 'filters combine');
  assert.equal((await logs(s, `kind=request&from=${tMid}&model=gemini-2.5-pro`)).total, 0);
  // Paging: same total on every page, pages partition the rows.
  const ids = [];
  for (let page = 1; page <= Math.ceil(all.total / 3) + 1; page++) {
    const j = await logs(s, `kind=request&per_page=3&page=${page}`);
    assert.equal(j.total, all.total);
    assert.equal(j.page, page);
    assert.equal(j.per_page, 3);
    ids.push(...j.items.map((r) => r.id));
  }
  assert.deepEqual(ids, all.rows.map((r) => r.id), 'pages in order, nothing twice, nothing missing');
  for (const [q, field] of [['kind=bogus', 'kind'], ['status=abc', 'status'], ['status=6xx', 'status'],
                            ['status=99', 'status'], ['key=abc', 'key'], ['from=yesterday', 'from'], ['to=-1', 'to']]) {
    adminError(await api(s, 'GET', `/admin/api/logs?${q}`), 400, field);
  }
});

test('error rows: the rejected, denied and quota keys, newest first', async () => {
  const {rows, total} = await allRows(s, 'kind=error');
  assert.ok(total >= 3, `error rows: ${JSON.stringify(rows)}`);
  for (const r of rows) for (const f of ERROR_FIELDS) assert.ok(f in r, `error row has ${f}`);
  const of = (secret) => rows.filter((r) => r.key_id === idOf(secret));
  const [inv] = of(s.secrets.bad);
  assert.equal(inv.kind, 'key_invalid');
  assert.equal(inv.status, 400);
  assert.equal(inv.model, 'gemini-2.5-flash');
  assert.ok(inv.message.length > 0);
  const [q] = of(s.secrets.quota);
  assert.equal(q.kind, 'quota');
  assert.equal(q.status, 429);
  const [d] = of(s.secrets.denied);
  assert.equal(d.status, 403, 'the denied key (Google quotes the key in its message: scanned, never in full)');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].time >= rows[i].time, 'newest first');
  const byKey = await allRows(s, `kind=error&key=${idOf(s.secrets.quota)}`);
  assert.ok(byKey.total >= 1 && byKey.rows.every((r) => r.key_id === idOf(s.secrets.quota)));
  assert.equal((await logs(s, 'kind=error&status=429')).total, of(s.secrets.quota).length);
  assert.equal((await logs(s, 'kind=error&status=4xx')).total, total);
});

test('stats: every window\'s totals match the traffic, with per-key and per-model breakdowns', async () => {
  const {rows} = await allRows(s, 'kind=request');
  const sum = (f, list = rows) => list.reduce((a, r) => a + r[f], 0);
  const failures = rows.filter((r) => r.status >= 400 || r.status === 0).length;
  const spans = {'1m': 60_000, '1h': 3_600_000, '24h': 86_400_000, '30d': 30 * 86_400_000};
  for (const [w, span] of Object.entries(spans)) {
    const t0 = Date.now();
    const j = ok(await api(s, 'GET', `/admin/api/stats?window=${w}`));
    assert.equal(j.window, w);
    assert.ok(j.refused >= 1, `${w}: the refused request is counted (${j.refused})`);
    assert.equal(j.to - j.from, span, `${w}: to - from`);
    assert.ok(Math.abs(j.to - t0) < 5000, `${w}: to ≈ now`);
    assert.ok(j.bucket_ms > 0 && j.bucket_ms <= span);
    assert.deepEqual(j.totals, {requests: rows.length, failures, prompt_tokens: sum('prompt_tokens'),
                                completion_tokens: sum('completion_tokens'), total_tokens: sum('total_tokens')},
                     `${w}: totals`);
    const seriesSum = j.series.reduce((a, b) => a + b.requests, 0);
    assert.equal(seriesSum, rows.length, `${w}: the series adds up`);
    assert.equal(j.series.reduce((a, b) => a + b.tokens, 0), sum('total_tokens'));
    assert.equal(j.series.reduce((a, b) => a + b.failures, 0), failures);
    // Per key: every key that served a logged request.
    const keyed = new Map();
    for (const r of rows) if (r.key_id !== null) keyed.set(r.key_id, (keyed.get(r.key_id) || 0) + 1);
    assert.equal(j.by_key.length, keyed.size, `${w}: by_key ${JSON.stringify(j.by_key)}`);
    for (const k of j.by_key) {
      assert.equal(k.requests, keyed.get(k.key_id), `${w}: requests of key ${k.key_id}`);
      const mine = rows.filter((r) => r.key_id === k.key_id);
      assert.equal(k.total_tokens, sum('total_tokens', mine));
      assert.equal(k.failures, mine.filter((r) => r.status >= 400).length);
      const secret = Object.values(s.secrets).find((x) => idOf(x) === k.key_id);
      assert.equal(k.masked, mask(secret));
    }
    const models = new Map();
    for (const r of rows) models.set(r.model, (models.get(r.model) || 0) + 1);
    for (const m of j.by_model) assert.equal(m.requests, models.get(m.model), `${w}: model ${m.model}`);
    assert.equal(j.by_model.find((m) => m.model === 'gemini-2.5-pro')?.requests, 2);
    assert.equal(j.by_model.reduce((a, m) => a + m.requests, 0), rows.length, `${w}: by_model adds up`);
    assert.deepEqual(j.keys, {all: 5, active: 2, cooling: 1, disabled: 2}, `${w}: key counts`);
  }
  adminError(await api(s, 'GET', '/admin/api/stats?window=2d'), 400, 'window');
});

test('DELETE logs by ids, by filter, and all', async () => {
  const first = await allRows(s, 'kind=request');
  const victims = first.rows.slice(0, 2).map((r) => r.id);
  assert.deepEqual(await del(s, {kind: 'request', ids: victims}), {deleted: 2});
  const afterIds = await allRows(s, 'kind=request');
  assert.equal(afterIds.total, first.total - 2);
  assert.ok(!afterIds.rows.some((r) => victims.includes(r.id)));
  assert.deepEqual(await del(s, {kind: 'request', ids: victims}), {deleted: 0},
                   'deleting gone ids deletes nothing');
  const pro = (await logs(s, 'kind=request&model=gemini-2.5-pro')).total;
  assert.equal(pro, 2);
  assert.deepEqual(await del(s, {kind: 'request', filter: {model: 'gemini-2.5-pro'}}), {deleted: 2});
  assert.equal((await logs(s, 'kind=request&model=gemini-2.5-pro')).total, 0);
  const fourxx = (await logs(s, 'kind=request&status=4xx')).total;
  const d4 = await del(s, {kind: 'request', filter: {status: '4xx', from: 0}});
  assert.equal(d4.deleted, fourxx);
  const remaining = (await logs(s, 'kind=request')).total;
  assert.equal(remaining, first.total - 2 - 2 - fourxx);
  for (const [body, field] of [[{kind: 'request', filter: {status: 'abc'}}, 'filter.status'],
                               [{kind: 'request', filter: 'all'}, 'filter'], [{kind: 'request', ids: 'x'}, 'ids'],
                               [{kind: 'nope', all: true}, 'kind']]) {
    adminError(await api(s, 'DELETE', '/admin/api/logs', {body}), 400, field);
  }
  adminError(await api(s, 'DELETE', '/admin/api/logs', {body: {kind: 'request'}}), 400);
  adminError(await api(s, 'DELETE', '/admin/api/logs', {body: {kind: 'request', all: false}}), 400);
  assert.equal((await logs(s, 'kind=request')).total, remaining, 'refused deletes deleted nothing');
  const errs = await allRows(s, 'kind=error');
  assert.deepEqual(await del(s, {kind: 'error', ids: [errs.rows[0].id]}), {deleted: 1});
  assert.equal((await logs(s, 'kind=error')).total, errs.total - 1);
  assert.equal((await logs(s, 'kind=request')).total, remaining, 'error deletes leave request rows alone');
  assert.deepEqual(await del(s, {kind: 'request', all: true}), {deleted: remaining});
  assert.deepEqual(await del(s, {kind: 'error', all: true}), {deleted: errs.total - 1});
  assert.equal((await logs(s, 'kind=request')).total, 0);
  assert.equal((await logs(s, 'kind=error')).total, 0);
  // New traffic is logged again.
  assert.equal((await generate(s.gw, 'after clear', {token: s.token})).status, 200);
  await eventually(async () => (await logs(s, 'kind=request')).total === 1, {what: 'a new row'});
  assert.ok(scannedCount() > 30, `answers scanned for secrets in this file: ${scannedCount()}`);
});

test('a page number beyond int range never wraps around to real rows', async () => {
  assert.equal((await generate(s.gw, 'one more', {token: s.token})).status, 200);
  await eventually(async () => (await logs(s, 'kind=request')).total >= 1, {what: 'a row'});
  for (const page of ['4294967297', '99999999999']) {
    const r = await api(s, 'GET', `/admin/api/logs?kind=request&page=${page}`);
    if (r.status === 400) continue;  // refusing is fine
    const j = ok(r);
    assert.equal(j.items.length, 0, `page=${page} answered page ${j.page} with ${j.items.length} row(s)`);
    assert.ok(j.page === Number(page) || j.page >= 1e6, `page=${page} echoed as page ${j.page}`);
  }
});
