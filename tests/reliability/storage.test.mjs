// Storage under hostile conditions (hardening items 5, 8 and 12), against the real binary:
//  - an admin's deletion of a key or token that came from API_KEYS / ALLOWED_TOKENS survives a
//    restart (the environment does not bring it back); adding it through the admin API does;
//  - a flood of bad-token requests adds no request-log rows (they are counted), and the log has
//    a row cap enforced by housekeeping;
//  - pool keys are encrypted at rest: no key bytes in the database, its WAL or shm; a restart
//    with the same key file works; a wrong GEMGATE_MASTER_KEY exits non-zero with a clear
//    message and changes nothing; a v1 database with clear keys is migrated.
// Bounded (a few thousand loopback requests at most), loopback only.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startGateway, generate, poolKey, clientToken, eventually, REPO_ROOT}
  from '../support/gateway.mjs';
import {adminStack, api, ok, mask, allKeys, createToken, registerSecret, newAdminToken}
  from '../integration/admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const dbFiles = (dir) => ['gemgate.db', 'gemgate.db-wal', 'gemgate.db-shm']
  .map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
const allBytes = (dir) => Buffer.concat(dbFiles(dir).map((f) => fs.readFileSync(f)));
// What the database holds, as SQL text: unlike its bytes, this does not change when a process
// only opens it (reading marks in -shm, the WAL checkpointed into the file at the last close).
const contentOf = (dir) => execFileSync('sqlite3', [path.join(dir, 'gemgate.db'), '.dump'],
                                        {encoding: 'utf8', maxBuffer: 64 << 20});

/** Runs `n` calls of `fn(i)`, at most `width` at a time. */
async function pool(n, width, fn) {
  let next = 0;
  const worker = async () => { while (next < n) await fn(next++); };
  await Promise.all(Array.from({length: width}, worker));
}

async function requestLogTotal(s) {
  return ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=1')).total;
}

test('item 5: a deleted env token and env key stay deleted after a restart', async (t) => {
  const gone = clientToken('revoked');
  const kept = clientToken('kept');
  const goneKey = poolKey('Valid');
  const keptKey = poolKey('Valid');
  const s = await adminStack(t, fake, {keys: [goneKey, keptKey], tokens: [kept, gone]});
  s.token = kept;
  registerSecret('a client token', gone);
  assert.equal((await generate(s.gw, 'hi', {token: gone})).status, 200);

  const tokens = ok(await api(s, 'GET', '/admin/api/tokens')).items;
  const tok = tokens.find((x) => x.masked === mask(gone));
  assert.ok(tok, `the env token is listed: ${JSON.stringify(tokens)}`);
  ok(await api(s, 'DELETE', `/admin/api/tokens/${tok.id}`));
  const key = (await allKeys(s)).find((k) => k.masked === mask(goneKey));
  ok(await api(s, 'DELETE', `/admin/api/keys/${key.id}`));
  assert.equal((await generate(s.gw, 'hi', {token: gone})).status, 401);

  const from = s.gw.output.length;
  await s.gw.restart();  // same ALLOWED_TOKENS / API_KEYS in the environment
  assert.equal((await generate(s.gw, 'hi', {token: gone})).status, 401,
               'a deleted token must not work again after a restart');
  const masks = (await allKeys(s)).map((k) => k.masked);
  assert.ok(!masks.includes(mask(goneKey)), 'a deleted key must not come back');
  assert.ok(masks.includes(mask(keptKey)));
  const logs = s.gw.output.slice(from).map((o) => o.text).join('');
  assert.match(logs, /ALLOWED_TOKENS item was not added: an admin deleted/);
  assert.match(logs, /API_KEYS item \d+ was not added: an admin deleted/);
  assert.ok(!logs.includes(gone) && !logs.includes(goneKey), 'the values are never logged');

  // The deliberate way back: add it through the admin API; it then survives restarts again.
  await createToken(s, {token: gone, label: 'restored'});
  await s.gw.restart();
  assert.equal((await generate(s.gw, 'hi', {token: gone})).status, 200);
});

test('item 8: a bad-token flood adds no log rows and is counted', async (t) => {
  const s = await adminStack(t, fake);
  await generate(s.gw, 'one good request', {token: s.token});
  const before = await requestLogTotal(s);
  const N = 3000;
  const statuses = new Map();
  await pool(N, 32, async (i) => {
    const r = await generate(s.gw, `flood ${i}`, {token: `bad-token-${i}-xxxxxxxx`});
    statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
  });
  assert.equal(statuses.get(401), N, `every bad token is refused: ${[...statuses]}`);
  // One admin job runs after every queued row is written, so this sees them all.
  const afterFlood = await requestLogTotal(s);
  assert.equal(afterFlood - before, 0, `${afterFlood - before} rows added by ${N} bad-token requests`);
  const stats = ok(await api(s, 'GET', '/admin/api/stats?window=1h'));
  assert.ok(stats.refused >= N, `refused requests are counted: ${stats.refused}`);
  assert.equal(typeof stats.totals.requests, 'number');
  assert.ok(Array.isArray(stats.series) && Array.isArray(stats.by_key), 'stats shape unchanged');
});

test('item 8: the request log has a row cap (log_max_rows), statistics keep counting',
     async (t) => {
  const s = await adminStack(t, fake, {settings: {log_max_rows: 40}});
  await generate(s.gw, 'one good request', {token: s.token});
  // Row cap: 120 authenticated requests, at most log_max_rows (40) rows remain.
  await pool(120, 8, async (i) => {
    assert.equal((await generate(s.gw, `good ${i}`, {token: s.token})).status, 200);
  });
  await eventually(async () => (await requestLogTotal(s)) <= 40, {timeoutMs: 20000, intervalMs: 500, what: 'the row cap'});
  const stats24 = ok(await api(s, 'GET', '/admin/api/stats?window=24h'));
  assert.ok(stats24.totals.requests >= 121, 'statistics still count the pruned rows');
});

test('item 12: no key in clear on disk; same key file restarts; a wrong master key changes ' +
     'nothing and exits non-zero', async (t) => {
  const keys = [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')];
  const s = await adminStack(t, fake, {keys});
  assert.equal((await generate(s.gw, 'hi', {token: s.token})).status, 200);
  const dir = s.gw.dataDir;
  const check = (where) => {
    const bytes = allBytes(dir);
    assert.ok(bytes.length > 0);
    for (const k of keys) {
      assert.equal(bytes.indexOf(Buffer.from(k)), -1, `${where}: a pool key in clear in the db`);
    }
  };
  check('while running');
  await s.gw.stop();
  check('after stop');
  const master = path.join(dir, 'master.key');
  assert.equal(fs.statSync(master).mode & 0o777, 0o600, 'key file created 0600');
  const masterHex = fs.readFileSync(master, 'utf8').trim();
  assert.match(masterHex, /^[0-9a-f]{64}$/);

  await s.gw.restart();
  assert.equal((await generate(s.gw, 'after restart', {token: s.token})).status, 200);
  await s.gw.stop();

  const intact = contentOf(dir);
  const wrong = crypto.randomBytes(32).toString('hex');
  s.gw.opts.env = {...s.gw.opts.env, GEMGATE_MASTER_KEY: wrong};
  const from = s.gw.output.length;
  await assert.rejects(s.gw.restart(), /exited/);
  assert.notEqual(s.gw.exitInfo.code, 0, 'a wrong master key is a start-up failure');
  const out = s.gw.output.slice(from).map((o) => o.text).join('');
  assert.match(out, /master key .* is not the key the pool keys .* were encrypted with/);
  assert.ok(!out.includes(wrong) && !out.includes(masterHex), 'no master key in the output');
  assert.equal(contentOf(dir), intact, 'the database is untouched by the failed start');

  delete s.gw.opts.env.GEMGATE_MASTER_KEY;
  await s.gw.restart();
  assert.equal((await generate(s.gw, 'right key', {token: s.token})).status, 200);
  assert.equal((await allKeys(s)).length, keys.length);
});

test('item 12: a v1 database with keys in clear is encrypted at start', async (t) => {
  const schema = fs.readFileSync(path.join(REPO_ROOT, 'storage/sqlite/schema.cpp'), 'utf8');
  const v1 = schema.match(/kV1 = R"sql\(([\s\S]*?)\)sql"/)[1];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-v1-'));
  const keys = [poolKey('Valid'), poolKey('Valid')];
  const sql = `PRAGMA journal_mode=WAL;\n${v1}\nPRAGMA application_id = 1196246868;\n` +
    `PRAGMA user_version = 1;\n` +
    keys.map((k, i) => `INSERT INTO keys (secret, created_at) VALUES ('${k}', ${i + 1});`).join('\n');
  execFileSync('sqlite3', [path.join(dir, 'gemgate.db')], {input: sql});
  assert.notEqual(allBytes(dir).indexOf(Buffer.from(keys[0])), -1, 'the v1 file holds clear keys');
  const token = clientToken('v1');
  const adminToken = newAdminToken();
  const gw = await startGateway({dataDir: dir, upstream: fake,
                                 env: {ALLOWED_TOKENS: token, AUTH_TOKEN: adminToken}});
  t.after(() => gw.dispose());
  assert.match(gw.logs(), /encrypted 2 pool key\(s\) stored in clear/);
  for (let i = 0; i < 4; i++) {
    assert.equal((await generate(gw, `v1 ${i}`, {token})).status, 200);
  }
  await gw.stop();
  const bytes = allBytes(dir);
  for (const k of keys) assert.equal(bytes.indexOf(Buffer.from(k)), -1, 'clear key left on disk');
  await gw.restart();
  const s = {gw, adminToken};
  assert.deepEqual((await allKeys(s)).map((k) => k.masked).sort(), keys.map(mask).sort());
});
