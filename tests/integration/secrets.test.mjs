// Secrets stay secret: pool keys, client tokens (right and wrong), the cron secret and the admin
// token never appear in the gateway's logs, and pool keys never reach a client — not even when
// Google's own error message quotes the key (403 CONSUMER_SUSPENDED does).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack, sequence} from '../support/stack.mjs';
import {call, generate, streamGenerate, sseEvents, poolKey, clientToken, collectGatewayLogs,
        rawRequest, assertAbsent} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

test('no pool key, client token, cron secret or admin token in the logs', async (t) => {
  const keys = {valid: poolKey('Valid'), invalid: poolKey('Invalid'), denied: poolKey('Denied'),
                quota: poolKey('Quota'), overload: poolKey('Overload')};
  const token = clientToken('canary');
  const secrets = {
    ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`pool key (${k})`, v])),
    'client token': token, 'wrong client token': clientToken('wrongcanary'),
    'cron secret': `cron-${clientToken('croncanary')}`, 'admin token': `admin-${clientToken('admincanary')}`,
  };
  // Debug level: secrets must stay out of the most verbose logs too.
  const s = await startStack({fake, keys: Object.values(keys), tokens: [token],
                              cronSecret: secrets['cron secret'], authToken: secrets['admin token'],
                              env: {GEMGATE_LOG_LEVEL: 'debug'}});
  t.after(() => s.close());
  // Successes and failovers through every key class, with the token in every position.
  for (const via of ['query', 'header', 'bearer']) await sequence(s, 4, `via ${via}`, {via});
  const st = await streamGenerate(s.gw, 'stream [[chunks=3]]', {token});
  await sseEvents(st);
  // Wrong credentials, including a pool key offered as a token.
  for (const via of ['query', 'header', 'bearer']) {
    await generate(s.gw, 'x', {token: secrets['wrong client token'], via});
    await generate(s.gw, 'x', {token: keys.valid, via});
  }
  // Client mistakes, the models list, the cron endpoint with right and wrong secret.
  await generate(s.gw, 'x', {token, via: 'query', model: 'no-such-model'});
  await call(s.gw, '/v1beta/models', {token, via: 'query'});
  await call(s.gw, '/api/cron/health-check', {headers: {authorization: `Bearer ${secrets['cron secret']}`}});
  await call(s.gw, '/api/cron/health-check', {headers: {authorization: `Bearer ${secrets['wrong client token']}`}});
  await call(s.gw, '/admin', {headers: {authorization: `Bearer ${secrets['admin token']}`}});
  // A malformed request that carries a token in its URL.
  await rawRequest(s.gw.port, `GET /v1beta/models?key=${token} HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n`,
                   {responses: 1, settleMs: 200});
  assert.ok(s.fake.stats().total >= 12, 'the traffic really went through');
  const stop = await s.gw.stop();
  assert.equal(stop.code, 0);
  const logs = collectGatewayLogs(s.gw);
  assert.match(logs, /listening on/, 'logs were captured');
  assertAbsent(logs, secrets, 'gateway logs');
});

test('a pool key quoted by Google (403 CONSUMER_SUSPENDED) never reaches the client', async (t) => {
  const denied = poolKey('Denied');
  const s = await startStack({fake, keys: [denied], env: {GEMGATE_LOG_LEVEL: 'debug'}});
  t.after(() => s.close());
  for (let i = 0; i < 3; i++) {
    const r = await generate(s.gw, 'x', {token: s.token});
    assert.notEqual(r.status, 200);
    assertAbsent(r.text, {'pool key': denied}, `response ${i + 1} body`);
    for (const [name, value] of r.headers) assertAbsent(value, {'pool key': denied}, `header ${name}`);
  }
  const res = await streamGenerate(s.gw, 'x', {token: s.token, sse: false});
  assertAbsent(await res.text(), {'pool key': denied}, 'stream error body');
  await s.gw.stop();
  assertAbsent(collectGatewayLogs(s.gw), {'pool key': denied}, 'gateway logs');
});
