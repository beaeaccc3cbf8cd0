// Round 6's per-thread getrandom block (core/crypto.cpp random_token) as clients see it: request
// ids unique over 100 000 requests across two workers, and OpenAI completion ids and Anthropic
// message ids drawn from the same blocks unique too. (Tokens: attack-tokens.test.mjs.)

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {adminStack} from './admin-lib.mjs';
import {chat} from '../support/dialect-clients.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** GET `path` n times over `conns` keep-alive connections; returns the x-request-id of each. */
async function manyIds(port, path, n, conns) {
  const agent = new http.Agent({keepAlive: true, maxSockets: conns});
  const ids = [];
  let sent = 0;
  const one = () => new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path, agent}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['x-request-id']));
    });
    req.on('error', reject);
    req.end();
  });
  await Promise.all(Array.from({length: conns}, async () => {
    while (sent < n) {
      sent++;
      ids.push(await one());
    }
  }));
  agent.destroy();
  return ids;
}

test('request ids are unique over 100 000 requests across two workers; completion and message ids too', async (t) => {
  const s = await adminStack(t, fake);
  const ids = await manyIds(s.gw.port, '/healthz', 100000, 24);
  assert.equal(ids.length, 100000);
  assert.ok(ids.every((id) => typeof id === 'string' && /^req-[0-9A-Za-z]{8}[0-9a-f]{8}$/.test(id)),
            `every answer has a request id: ${ids.find((id) => !/^req-/.test(id || ''))}`);
  assert.equal(new Set(ids).size, ids.length, 'no request id twice');
  const prefixes = new Set(ids.map((id) => id.slice(0, 12)));
  assert.ok(prefixes.size >= 2, `both workers answered (${prefixes.size} id prefixes)`);
  // OpenAI completion ids and Anthropic message ids, drawn from the same per-thread blocks.
  const seen = new Set();
  const failures = [];
  let next = 0;
  await Promise.all(Array.from({length: 12}, async () => {
    while (next < 2400) {
      const i = next++;
      if (i % 2) {
        const r = await chat(s, {model: 'gemini-2.5-flash', messages: [{role: 'user', content: `id ${i}`}]});
        if (r.status !== 200) failures.push(`chat ${i}: ${r.status} ${r.text.slice(0, 200)}`);
        if (r.status !== 200) continue;
        assert.match(r.json.id, /^chatcmpl-[0-9A-Za-z]{24}$/);
        assert.ok(!seen.has(r.json.id), `completion id ${r.json.id} twice`);
        seen.add(r.json.id);
      } else {
        const res = await fetch(`${s.gw.url}/v1/messages`, {
          method: 'POST', headers: {'x-api-key': s.token, 'content-type': 'application/json',
                                    'anthropic-version': '2023-06-01'},
          body: JSON.stringify({model: 'gemini-2.5-flash', max_tokens: 20,
                                messages: [{role: 'user', content: `id ${i}`}]})});
        const j = await res.json();
        if (res.status !== 200) failures.push(`message ${i}: ${res.status} ${JSON.stringify(j).slice(0, 200)}`);
        if (res.status !== 200) continue;
        assert.match(j.id, /^msg_[0-9A-Za-z]{24}$/);
        assert.ok(!seen.has(j.id), `message id ${j.id} twice`);
        seen.add(j.id);
      }
    }
  }));
  const why = s.gw.logs().split('\n').filter((l) => / (5\d\d|4\d\d) \d+ms/.test(l) || /WARN|ERROR/.test(l)).slice(-8);
  assert.deepEqual(failures, [], `every translated call answered; the gateway's log says:\n${why.join('\n')}`);
  assert.equal(seen.size, 2400);
});
