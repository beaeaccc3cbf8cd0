// Round 6's stored request log as an attacker sees it (this suite runs on both stores): the SQLite
// multi-row INSERT (rows 128 to a statement, then 16, rows with failed keys alone) and the spare
// request rows a written row is filled again from. Requests are pipelined on one connection, so
// the gateway finishes them, and queues their rows, in the order sent; every answer's
// x-request-id names the row that must describe it. Each case reads the rows back through the
// admin API and asserts what an operator depends on: every request has exactly one row, in order,
// carrying its own path, model, status, token and key, and nothing of the request before it.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {clientToken, genBody, poolKey, rawRequest} from '../support/gateway.mjs';
import {configWithLimits} from '../support/hostile-client.mjs';
import {adminStack, api, ok, keyOf} from './admin-lib.mjs';
import {chat} from '../support/dialect-clients.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** Every request row with an id above `afterId`, oldest first (all pages). */
async function rowsAfter(s, afterId) {
  const rows = [];
  for (let page = 1; ; page++) {
    const j = ok(await api(s, 'GET', `/admin/api/logs?kind=request&per_page=100&page=${page}`));
    rows.push(...j.items);
    if (j.items.length === 0 || rows.length >= j.total || j.items.at(-1).id <= afterId) break;
  }
  return rows.filter((r) => r.id > afterId).sort((a, b) => a.id - b.id);
}

/** The highest stored request row id (0 when none); the admin call also writes every queued row. */
async function lastId(s) {
  const j = ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=1'));
  return j.items[0]?.id ?? 0;
}

/** One request's bytes: {method, target, token, text?} → HTTP/1.1 with a body when text is set. */
function requestBytes(r) {
  const body = r.text === undefined ? '' : JSON.stringify(genBody(r.text));
  return `${r.method} ${r.target} HTTP/1.1\r\nHost: gw\r\nx-goog-api-key: ${r.token}\r\n` +
         (body ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` : '') +
         `\r\n${body}`;
}

/**
 * Pipelines `reqs` on one connection (all written at once), waits for every answer and returns
 * them in order, each with the request it answers.
 */
async function pipeline(s, reqs) {
  const bytes = reqs.map(requestBytes).join('');
  const r = await rawRequest(s.gw.port, bytes, {responses: reqs.length, timeoutMs: 60000});
  assert.equal(r.responses.length, reqs.length,
               `every pipelined request answered (${r.responses.length}/${reqs.length}, ${r.error || ''})`);
  return r.responses.map((res, i) => ({req: reqs[i], res}));
}

/**
 * Asserts the rows after `afterId` are exactly `answered`'s requests, in order, each its own:
 * request_id, path, model, status, token. Returns the rows.
 */
async function assertRowsMatch(s, afterId, answered, tokenIds, where) {
  const rows = await rowsAfter(s, afterId);
  assert.equal(rows.length, answered.length, `${where}: one row per request (${rows.length} rows)`);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i], {req, res} = answered[i];
    const at = `${where}, request ${i}`;
    assert.equal(row.request_id, res.headers['x-request-id'], `${at}: rows in the order served`);
    same(row.path, clip(req.path, 1024), `${at}: its own path`);
    same(row.model, clip(req.model, 200), `${at}: its own model`);
    assert.equal(row.status, res.status, `${at}: its own status`);
    assert.equal(row.method, req.method, `${at}: its own method`);
    if (tokenIds) assert.equal(row.token_id, tokenIds.get(req.token), `${at}: its own token`);
    assert.equal(row.stream, false, `${at}: not a stream`);
    if (res.status === 200 && req.text !== undefined) {
      assert.ok(row.key_id > 0, `${at}: the key that served it`);
      assert.equal(row.attempts, row.failed_key_ids.length + 1,
                   `${at}: attempts ${row.attempts} = failed keys ${JSON.stringify(row.failed_key_ids)} + 1`);
      assert.ok(!row.failed_key_ids.includes(row.key_id), `${at}: the serving key is not a failed one`);
    }
  }
  return rows;
}

/** `s` cut to at most `max` UTF-8 bytes without splitting a character (the store's clip_utf8). */
function clip(s, max) {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/** Asserts two (possibly long) strings are equal, printing only their lengths and a short diff. */
function same(actual, expected, what) {
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: got ${actual.length} characters, want ${expected.length}; they differ at ${i}: ` +
              `${JSON.stringify(actual.slice(i, i + 40))} vs ${JSON.stringify(expected.slice(i, i + 40))}`);
}

/** Token ids as the admin API lists them, by token value (matched on the last four characters). */
async function tokenIdsOf(s) {
  const j = ok(await api(s, 'GET', '/admin/api/tokens'));
  const items = j.items || j;
  const ids = new Map();
  for (const tok of s.tokens) {
    const m = items.filter((x) => JSON.stringify(x).includes(tok.slice(-4)));
    assert.equal(m.length, 1, `token …${tok.slice(-4)} listed once`);
    ids.set(tok, m[0].id);
  }
  return ids;
}

const MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'];

/** The i-th request of a batch: generate calls on three models and two tokens, a model list between. */
function mixedRequest(s, i) {
  const token = s.tokens[i % s.tokens.length];
  if (i % 7 === 3) {
    return {method: 'GET', target: '/v1beta/models', path: '/v1beta/models', model: '', token};
  }
  const model = MODELS[i % 3];
  const path = `/v1beta/models/${model}:generateContent`;
  return {method: 'POST', target: path, path, model, token, text: `row ${i}`};
}

test('batches of 1, 15, 16, 17, 127, 128, 129 and 145 rows land complete and in order, each row its own', async (t) => {
  const s = await adminStack(t, fake, {tokens: [clientToken('a'), clientToken('b')]});
  const tokenIds = await tokenIdsOf(s);
  for (const n of [1, 15, 16, 17, 127, 128, 129, 145]) {
    const from = await lastId(s);
    const answered = await pipeline(s, Array.from({length: n}, (_, i) => mixedRequest(s, i + n)));
    for (const {res} of answered) assert.equal(res.status, 200, res.text.slice(0, 200));
    await assertRowsMatch(s, from, answered, tokenIds, `batch of ${n}`);
  }
});

test('rows with failed keys mixed into a batch keep their failed keys, the rows around them theirs', async (t) => {
  const flaky = poolKey('Valid'), good = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [flaky, good], settings: {max_retries: 3}});
  // The flaky key is overloaded for the pro model only: a pro request it meets fails over.
  fake.setKeyMode(flaky, 'overload', {models: ['gemini-2.5-pro']});
  const flakyId = (await keyOf(s, flaky)).id, goodId = (await keyOf(s, good)).id;
  for (const n of [17, 40, 150]) {
    const from = await lastId(s);
    const reqs = Array.from({length: n}, (_, i) => mixedRequest(s, i));
    const answered = await pipeline(s, reqs);
    for (const {res} of answered) assert.equal(res.status, 200, res.text.slice(0, 200));
    const rows = await assertRowsMatch(s, from, answered, null, `failed keys, batch of ${n}`);
    for (const [i, row] of rows.entries()) {
      if (row.failed_key_ids.length) {
        assert.equal(row.model, 'gemini-2.5-pro', `row ${i}: only a pro request fails over`);
        assert.deepEqual(row.failed_key_ids, [flakyId], `row ${i}: the flaky key failed`);
        assert.equal(row.key_id, goodId, `row ${i}: the good key served it`);
      }
    }
  }
  // The total across the batches: a pro request on the flaky key failed over at least once.
  const all = await rowsAfter(s, 0);
  assert.ok(all.some((r) => r.failed_key_ids.length), 'at least one row has a failed key');
});

test('odd content: quotes, multibyte UTF-8, a 64 KB path and a NUL escape, alternated with plain rows', async (t) => {
  const s = await adminStack(t, fake, {configYaml: configWithLimits({max_url_bytes: '96KiB',
                                                                    max_header_bytes: '128KiB'})});
  // The row keeps the model as the path spells it (percent-escapes and all), clipped to 200
  // bytes, and the path clipped to 1024. The 64 KB one is over the stand-in's own head limit
  // (Node's 16 KiB), so it ends in a 503, still with a row of its own.
  const odd = [`it's "quoted"`, "a'); DROP TABLE request_log; --", 'zürich-日本語-🙂', 'x'.repeat(64 * 1024),
               'tab\there', '%25literal', `${'é'.repeat(99)}ü`, `${'é'.repeat(98)}🙂`];
  const reqs = [];
  for (const [i, name] of odd.entries()) {
    const spelled = encodeURIComponent(`gemini-odd-${name}`);
    const target = `/v1beta/models/${spelled}:generateContent`;
    reqs.push({method: 'POST', target, path: target, model: spelled, token: s.token, text: `odd ${i}`});
    reqs.push(mixedRequest(s, i));
  }
  const from = await lastId(s);
  const answered = await pipeline(s, reqs);
  for (const {req, res} of answered) {
    assert.ok([200, 404, 503].includes(res.status), `${req.model.slice(0, 40)}: ${res.status} ${res.text.slice(0, 200)}`);
    if (req.model.startsWith('gemini-2')) assert.equal(res.status, 200);
  }
  await assertRowsMatch(s, from, answered, null, 'odd content');
  // A NUL in the path is refused ("request path is malformed", connection closed) before any
  // row; the request after it, on a new connection, has its own row.
  const beforeNul = await lastId(s);
  const nul = await rawRequest(s.gw.port, requestBytes({method: 'POST', token: s.token, text: 'nul',
                                                       target: '/v1beta/models/gemini-2.5-flash%00evil:generateContent'}),
                               {responses: 1, timeoutMs: 10000});
  assert.equal(nul.responses[0]?.status, 400, nul.text.slice(0, 200));
  const next = await pipeline(s, [mixedRequest(s, 1)]);
  const rows = await rowsAfter(s, beforeNul);
  for (const row of rows) {
    assert.ok(!row.model.includes('\u0000') && !row.path.includes('\u0000'), `no NUL stored: ${JSON.stringify(row).slice(0, 300)}`);
    assert.notEqual(row.path, '/v1beta/models/gemini-2.5-flash', 'no row claims the path cut at the NUL');
  }
  assert.equal(rows.at(-1).request_id, next[0].res.headers['x-request-id'], 'the next request has its own row');
  assert.equal(rows.at(-1).model, next[0].req.model);
});

test('spare rows reused: long then short paths, with and without a model, never carry the previous request', async (t) => {
  const s = await adminStack(t, fake, {tokens: [clientToken('a'), clientToken('b')],
                                       configYaml: configWithLimits({max_url_bytes: '64KiB',
                                                                     max_header_bytes: '96KiB'})});
  const tokenIds = await tokenIdsOf(s);
  // Several rounds, so later rounds are filled into rows the earlier ones were written from.
  for (let round = 0; round < 4; round++) {
    const reqs = [];
    for (let i = 0; i < 60; i++) {
      const token = s.tokens[(i + round) % s.tokens.length];
      if (i % 3 === 0) {
        const model = `gemini-long-${'L'.repeat(20000 + i)}`;
        const path = `/v1beta/models/${model}:generateContent`;
        reqs.push({method: 'POST', target: path, path, model, token, text: `long ${i}`});
      } else if (i % 3 === 1) {
        reqs.push({method: 'GET', target: '/v1beta/models', path: '/v1beta/models', model: '', token});
      } else {
        reqs.push({method: 'POST', target: '/v1beta/models/g:generateContent',
                   path: '/v1beta/models/g:generateContent', model: 'g', token, text: `short ${i}`});
      }
    }
    const from = await lastId(s);
    const answered = await pipeline(s, reqs);
    const rows = await assertRowsMatch(s, from, answered, tokenIds, `reuse round ${round}`);
    for (const row of rows) {
      if (row.model === '') assert.equal(row.key_id === null || row.key_id > 0, true);
      if (row.status !== 200) assert.equal(row.prompt_tokens, 0, 'a failed request counts no tokens of another');
    }
  }
});

test('an error text of multibyte UTF-8 is clipped to 2000 bytes on a character boundary', async (t) => {
  const s = await adminStack(t, fake);
  // The OpenAI front refuses a model id it cannot use with "The model '<id>' is not a valid
  // model id."; the row keeps that message clipped to 2000 bytes. 'é' is two bytes, '🙂' four:
  // each id below puts the 2000-byte cut at a different place inside a character.
  const ids = ['é'.repeat(1200), `x${'é'.repeat(1200)}`, '🙂'.repeat(600), `x${'🙂'.repeat(600)}`,
               `xx${'🙂'.repeat(600)}`, `xxx${'🙂'.repeat(600)}`];
  const from = await lastId(s);
  const messages = [];
  for (const model of ids) {
    const r = await chat(s, {model, messages: [{role: 'user', content: 'hi'}]});
    assert.equal(r.status, 400, r.text.slice(0, 200));
    messages.push(r.json.error.message);
  }
  const rows = await rowsAfter(s, from);
  assert.equal(rows.length, ids.length, 'one row per request');
  for (const [i, row] of rows.entries()) {
    assert.ok(Buffer.byteLength(messages[i]) > 2000, 'the message is longer than the limit');
    same(row.error, clip(messages[i], 2000), `row ${i}: the error clipped on a character boundary`);
    assert.ok(!row.error.includes('\uFFFD'), `row ${i}: no replacement character`);
  }
});
