// log_format: json (every line one JSON object with stable field names, whatever bytes a client
// sends), the request id end to end (client's or generated, on every answer, in the access line
// and the stored log row), and key state changes as single log lines with id and mask.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {call, generate, streamGenerate, sseEvents, rawRequest, poolKey, clientToken, eventually,
        assertAbsent} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const ADMIN = 'adm-' + 'Qw8rT2yU6iO0pA4sD1fG';

async function stack(t, opts = {}) {
  const s = await startStack({fake, authToken: ADMIN, ...opts});
  t.after(() => s.close());
  return s;
}

const output = (s) => s.gw.output.map((o) => o.text).join('');

/** Every stderr line parsed as JSON; fails naming the first line that is not one object. */
function jsonLines(s) {
  const lines = output(s).split('\n').filter((l) => l.length > 0);
  return lines.map((l, i) => {
    let v;
    try { v = JSON.parse(l); } catch (e) { assert.fail(`log line ${i + 1} is not JSON (${e.message}): ${l}`); }
    assert.equal(typeof v, 'object', `line ${i + 1} is an object`);
    assert.equal(typeof v.ts, 'string');
    assert.match(v.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(v.level), `level of ${l}`);
    assert.equal(typeof v.msg, 'string');
    return v;
  });
}

/** A request whose body carries hostile text (quotes, newline, control and separator chars). */
function hostileOpenAi(s, id) {
  const body = Buffer.from('{"model":"gemini-x\\"}{\\n\\r\\u0001\\u001b[31m\\u2028 end",' +
                           '"messages":[{"role":"user","content":"hi"}]}');
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${s.token}\r\n` +
               `x-request-id: ${id}\r\ncontent-type: application/json\r\n` +
               `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  return rawRequest(s.gw.port, Buffer.concat([Buffer.from(head), body]), {responses: 1});
}

test('json logs: every line one object; access lines carry the documented fields', async (t) => {
  const quota = poolKey('Quota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [quota, good], env: {GEMGATE_LOG_FORMAT: 'json'}});
  const ids = [];
  const ok = await generate(s.gw, 'one', {token: s.token, headers: {'x-request-id': 'client-trace-0001'}});
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-request-id'), 'client-trace-0001', 'a valid client id is kept');
  ids.push(ok.headers.get('x-request-id'));
  for (const bad of ['short', 'has space in it', 'x'.repeat(65), 'quote"and<angle>']) {
    const r = await generate(s.gw, 'two', {token: s.token, headers: {'x-request-id': bad}});
    assert.equal(r.status, 200);
    assert.match(r.headers.get('x-request-id'), /^req-[A-Za-z0-9]{16}$/, `'${bad}' is replaced`);
    ids.push(r.headers.get('x-request-id'));
  }
  const stream = await streamGenerate(s.gw, 'three', {token: s.token});
  assert.equal(stream.status, 200);
  ids.push(stream.headers.get('x-request-id'));
  await sseEvents(stream);
  const refused = await generate(s.gw, 'no', {token: clientToken('wrong')});
  assert.equal(refused.status, 401);
  ids.push(refused.headers.get('x-request-id'));
  const hostile = await hostileOpenAi(s, 'hostile-trace-0001');
  assert.equal(hostile.responses[0].status, 400);
  const noRoute = await call(s.gw, '/nowhere');
  assert.equal(noRoute.status, 404);
  assert.match(noRoute.headers.get('x-request-id'), /^req-/, 'even a 404 without a route has one');
  for (const id of ids) assert.ok(id, 'every answer has an x-request-id');
  assert.equal(new Set(ids).size, ids.length, 'ids are distinct');

  await eventually(() => jsonLines(s).filter((l) => l.event === 'access').length >= ids.length + 1,
                   {what: 'the access lines'});
  const lines = jsonLines(s);
  const access = lines.filter((l) => l.event === 'access');
  for (const id of ids) {
    const line = access.find((l) => l.request_id === id);
    assert.ok(line, `access line of ${id}`);
    for (const [f, type] of Object.entries({
      route: 'string', chain: 'string', method: 'string', path: 'string', status: 'number',
      latency_ms: 'number', ttfb_ms: 'number', model: 'string', key_id: 'number',
      token_id: 'number', attempts: 'number', stream: 'boolean', bytes_in: 'number',
      bytes_out: 'number', client_aborted: 'boolean', client_addr: 'string'})) {
      assert.equal(typeof line[f], type, `${f} of ${JSON.stringify(line)}`);
    }
  }
  const first = access.find((l) => l.request_id === 'client-trace-0001');
  assert.equal(first.status, 200);
  assert.equal(first.chain, 'gemini');
  assert.equal(first.model, 'gemini-2.5-flash');
  assert.equal(first.token_id, 1);
  assert.ok(first.key_id > 0);
  assert.equal(typeof first.tokens_in, 'number');
  assert.equal(access.find((l) => l.request_id === ids[5]).stream, true);
  const h = access.find((l) => l.request_id === 'hostile-trace-0001');
  assert.equal(h.status, 400);
  assert.ok(h.error.includes('gemini-x"}{\n\r\u0001'), `hostile text survives escaping: ${h.error}`);
  // Pool keys and client tokens never appear in any line.
  assertAbsent(output(s), {'a pool key': quota, 'another pool key': good, 'a client token': s.token,
                           'the admin token': ADMIN}, 'the json log');
});

test('the request id is stored with the log row and shown by the admin logs API', async (t) => {
  const s = await stack(t);
  const r = await generate(s.gw, 'stored', {token: s.token, headers: {'x-request-id': 'find-me-0042'}});
  assert.equal(r.status, 200);
  const gen = await generate(s.gw, 'stored too', {token: s.token});
  const generated = gen.headers.get('x-request-id');
  let items = [];
  await eventually(async () => {
    const logs = await call(s.gw, '/admin/api/logs?per_page=50', {token: ADMIN, via: 'bearer'});
    assert.equal(logs.status, 200, logs.text);
    items = logs.json.items;
    return items.length >= 2;
  }, {what: 'two stored rows'});
  const ids = items.map((i) => i.request_id);
  assert.ok(ids.includes('find-me-0042'), `stored ids: ${ids}`);
  assert.ok(ids.includes(generated), 'a generated id is stored as well');
  // The text access line names it too.
  await eventually(() => output(s).includes(' id=find-me-0042'), {what: 'the text access line'});
});

test('text logs: an error quoting hostile client text stays on one line', async (t) => {
  const s = await stack(t);
  const r = await hostileOpenAi(s, 'text-trace-0001');
  assert.equal(r.responses[0].status, 400);
  await eventually(() => output(s).includes('id=text-trace-0001'), {what: 'the access line'});
  const line = output(s).split('\n').find((l) => l.includes('id=text-trace-0001'));
  assert.ok(line.includes('POST /v1/chat/completions 400'), `one whole line: ${line}`);
  assert.ok(line.includes('error="'), line);
});

test('key state changes: one line each, with id and mask, never the key', async (t) => {
  const invalid = poolKey('Invalid'), quota = poolKey('Quota'), good = poolKey('Valid');
  const s = await stack(t, {keys: [invalid, quota, good], env: {GEMGATE_LOG_FORMAT: 'json'}});
  for (let i = 0; i < 8; i++) assert.equal((await generate(s.gw, `k ${i}`, {token: s.token})).status, 200);
  const lines = jsonLines(s);
  const disabled = lines.filter((l) => l.event === 'key_disabled');
  const cooling = lines.filter((l) => l.event === 'key_cooling');
  assert.equal(disabled.length, 1, 'the invalid key: one line');
  assert.equal(cooling.length, 1, 'the cooling key: one line, not one per request');
  assert.equal(disabled[0].level, 'warn');
  assert.match(disabled[0].reason, /API_KEY_INVALID/);
  assert.equal(disabled[0].key_mask, `${invalid.slice(0, 4)}…${invalid.slice(-4)}`);
  assert.equal(cooling[0].model, 'gemini-2.5-flash');
  assert.match(cooling[0].until, /^\d{4}-\d\d-\d\dT/);
  assert.ok(cooling[0].cooldown_s > 0);
  assert.equal(cooling[0].key_mask, `${quota.slice(0, 4)}…${quota.slice(-4)}`);
  assert.notEqual(disabled[0].key_id, cooling[0].key_id);
  // An operator bringing the key back is a line too.
  const keyId = disabled[0].key_id;
  const en = await call(s.gw, `/admin/api/keys/${keyId}/enable`, {token: ADMIN, via: 'bearer', method: 'POST'});
  assert.equal(en.status, 200, en.text);
  await eventually(() => jsonLines(s).some((l) => l.event === 'key_revived' && l.key_id === keyId),
                   {what: 'the key_revived line'});
  assertAbsent(output(s), {'a pool key': invalid, 'the quota key': quota, 'the good key': good},
               'the log');
});
