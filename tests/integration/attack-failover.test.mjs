// Round 6's failover path as an unlucky client sees it: KeyPool::pick with the tried key ids held
// inline (four, then spilled), and the replay snapshot dropped at the commit point and recycled
// per thread. Requests fail over across more keys than the inline four while keys come and go
// through the admin API, many at once, with bodies just under, at and over 64 KiB. Each attempt
// the upstream saw must carry its own request's exact body, no key may be tried twice for one
// request, and the stored row must name exactly the keys that failed.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, genBody, poolKey} from '../support/gateway.mjs';
import {adminStack, api, ok, addKeys, allKeys} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini({maxRecorded: 100000}); });
after(async () => { await fake.close(); });

const SIZES = [64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200 * 1024, 300, 64 * 1024 - 200];

/** A prompt of about `size` bytes of JSON body, unique to `tag`, that the fake echoes back. */
function prompt(tag, size) {
  const overhead = JSON.stringify(genBody('')).length + tag.length + 1;
  const fill = crypto.createHash('sha256').update(tag).digest('hex');
  let text = `${tag} `;
  while (text.length < size - overhead + tag.length + 1) text += fill;
  return text.slice(0, Math.max(tag.length + 1, size - overhead + tag.length + 1));
}

test('failover across up to sixteen keys, keys added and deleted under traffic: each attempt its own body, no key twice', async (t) => {
  const good = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [good], settings: {max_retries: 20}});
  let maxFailed = 0, rounds = 0;
  for (let round = 0; round < 6; round++) {
    // Sixteen fresh keys that answer 429 (each cools down for its model after one answer).
    const quota = Array.from({length: 16}, () => poolKey('Quota'));
    await addKeys(s, quota);
    const firstSeq = fake.requests().length ? fake.requests().at(-1).id : 0;
    const reqs = Array.from({length: 8}, (_, i) => {
      const tag = `r${round}q${i}`;
      return {tag, text: prompt(tag, SIZES[(i + round) % SIZES.length])};
    });
    // Meanwhile keys of the previous round go.
    const deleting = (async () => {
      const keys = await allKeys(s);
      for (const k of keys.filter((k) => k.status === 'cooling' || k.cooling)) {
        await api(s, 'DELETE', `/admin/api/keys/${k.id}`);
      }
    })();
    // The first alone (it meets most of the fresh keys), the rest at once.
    const send = (r) => generate(s.gw, r.text, {token: s.token, timeoutMs: 60000});
    const answers = [await send(reqs[0])];
    answers.push(...await Promise.all(reqs.slice(1).map(send)));
    await deleting;
    const seen = fake.requests().filter((x) => x.id > firstSeq);
    for (const [i, r] of reqs.entries()) {
      const a = answers[i];
      assert.equal(a.status, 200, `${r.tag}: ${a.text.slice(0, 200)}`);
      assert.ok(a.json.candidates[0].content.parts[0].text === `echo: ${r.text}`, `${r.tag}: the answer echoes its own body`);
      const attempts = seen.filter((x) => x.body.includes(`"${r.tag} `));
      assert.ok(attempts.length >= 1, `${r.tag}: reached the upstream`);
      for (const x of attempts) {
        assert.ok(x.body === JSON.stringify(genBody(r.text)), `${r.tag}: attempt on …${x.key.slice(-4)} carried its own exact body (${x.bodyBytes} bytes)`);
      }
      const keys = attempts.map((x) => x.key);
      assert.equal(new Set(keys).size, keys.length, `${r.tag}: no key tried twice (${keys.map((k) => k.slice(-4)).join(',')})`);
      maxFailed = Math.max(maxFailed, attempts.length - 1);
    }
    rounds++;
  }
  // Rows: failed keys distinct, not the serving key, attempts = failed + 1.
  const j = ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=100'));
  for (const row of j.items) {
    assert.equal(new Set(row.failed_key_ids).size, row.failed_key_ids.length, `row ${row.id}: failed keys distinct`);
    assert.ok(!row.failed_key_ids.includes(row.key_id), `row ${row.id}: the serving key did not fail`);
    assert.equal(row.attempts, row.failed_key_ids.length + 1, `row ${row.id}: attempts`);
  }
  t.diagnostic(`most keys failed for one request: ${maxFailed}`);
  assert.ok(maxFailed > 4, `some request failed over past the inline four (most: ${maxFailed})`);
  assert.equal(rounds, 6);
});
