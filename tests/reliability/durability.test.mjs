// Durability under kill -9: every write the admin API acknowledged is on disk, whatever moment
// the process dies at. 100 acknowledged writes of three kinds (client tokens created, keys added,
// keys disabled), interleaved with traffic that fills the write-behind queue with log rows, then
// SIGKILL right after the last acknowledgement and a restart on the same data directory: all 100
// are there. Bounded (a few hundred loopback requests), loopback only.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {generate, poolKey} from '../support/gateway.mjs';
import {adminStack, api, ok, allKeys, addKeys, createToken} from '../integration/admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

test('100 acknowledged admin writes survive a kill -9 sent right after the last one', async (t) => {
  const s = await adminStack(t, fake);
  const tokens = [];
  const added = [];
  const disabled = [];
  const traffic = [];
  for (let i = 0; i < 100; ++i) {
    // Requests in flight keep the storage thread's queue busy with log rows meanwhile.
    traffic.push(generate(s.gw, `load ${i}`, {token: s.tokens[0]}).catch(() => null));
    if (i % 3 === 0) {
      tokens.push(await createToken(s, {label: `durable-${i}`}));
    } else if (i % 3 === 1) {
      const r = await addKeys(s, [poolKey('Valid')]);
      added.push(...r.added_ids);
    } else {
      const id = added[added.length - 1];
      ok(await api(s, 'POST', `/admin/api/keys/${id}/disable`));
      disabled.push(id);
    }
  }
  const stopped = await s.gw.stop({signal: 'SIGKILL'});
  assert.equal(stopped.signal, 'SIGKILL');
  await Promise.all(traffic);
  await s.gw.restart();

  const keys = new Map((await allKeys(s)).map((k) => [k.id, k.status]));
  const keptKeys = added.filter((id) => keys.has(id)).length;
  const keptDisabled = disabled.filter((id) => keys.get(id) === 'disabled').length;
  const listed = ok(await api(s, 'GET', '/admin/api/tokens?page_size=500'));
  const ids = new Set(listed.items.map((r) => r.id));
  const keptTokens = tokens.filter((tok) => ids.has(tok.id)).length;
  let working = 0;
  for (const tok of tokens) working += (await generate(s.gw, 'after kill', {token: tok.token})).status === 200 ? 1 : 0;
  const kept = keptKeys + keptDisabled + keptTokens;
  console.log(`acknowledged writes kept after kill -9: ${kept}/100 ` +
              `(keys ${keptKeys}/${added.length}, disabled ${keptDisabled}/${disabled.length}, ` +
              `tokens ${keptTokens}/${tokens.length}, tokens working ${working}/${tokens.length})`);
  assert.equal(kept, 100);
  assert.equal(working, tokens.length);
});
