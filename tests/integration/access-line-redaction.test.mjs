// The access line is built from pieces each redacted on its own (round 7: no second pass over
// the whole line). Every piece a client chooses — path, model, request id — is masked where it
// repeats a credential the request presented, right or wrong, or a registered secret; and the
// line keeps its shape (method, path, status, latency, fields, id).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {generate, poolKey, clientToken, collectGatewayLogs, assertAbsent} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

test('a credential repeated in x-request-id or the model name stays out of the access line', async (t) => {
  const key = poolKey('Valid');
  const token = clientToken('idcanary');
  const wrong = clientToken('wrongidcanary');
  const s = await startStack({fake, keys: [key], tokens: [token]});
  t.after(() => s.close());
  // A client may choose its request id (8-64 of [A-Za-z0-9._-]): a token is a valid one.
  const ok = await generate(s.gw, 'hi', {token, via: 'query', headers: {'x-request-id': token}});
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-request-id'), token, 'the client gets its own id back');
  const refused = await generate(s.gw, 'hi', {token: wrong, via: 'header', headers: {'x-request-id': wrong}});
  assert.equal(refused.status, 401);
  const inModel = await generate(s.gw, 'hi', {token: wrong, via: 'bearer', model: wrong,
                                               headers: {'x-request-id': `${wrong}.x`}});
  assert.equal(inModel.status, 401);
  const stop = await s.gw.stop();
  assert.equal(stop.code, 0);
  const logs = collectGatewayLogs(s.gw);
  assertAbsent(logs, {'client token': token, 'wrong client token': wrong, 'pool key': key}, 'gateway logs');
  const lines = logs.split('\n').filter((l) => / (POST|GET) \/v1beta\//.test(l));
  assert.equal(lines.length, 3, `one access line per request:\n${lines.join('\n')}`);
  for (const l of lines) {
    assert.match(l, /INFO {2}POST \/v1beta\/models\/\S+ (200|401) \d+ms( .*)? from=127\.0\.0\.1:\d+ id=\S+$/,
                 `the line keeps its shape: ${l}`);
  }
  assert.match(lines[0], / model=gemini-2\.5-flash key_id=\d+ tokens=\d+ /, 'fields of the answered request');
});
