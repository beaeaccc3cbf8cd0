// A group of gateways while its database is unavailable (issue 12): the gateways keep proxying
// from their last snapshot, admin writes fail with a clear 503 in the admin API's error shape
// and change nothing, rows written behind wait and land once the database is back, and changes
// made afterwards propagate again.
//   SQLite: "unavailable" is another process holding the write lock (a backup tool, a stuck
//     sqlite3 shell): writes time out busy after busy_timeout.
//   PostgreSQL (in integration-pg.group-outage, where PostgreSQL is installed): a server of its
//     own (tests/support/pg-server.sh in a state dir of this test, so the restart does not hit
//     the suites sharing the run's server) restarts in the middle of traffic and admin writes;
//     every write that was acknowledged is there afterwards.
// Polls with generous deadlines; no timing assertions.

import test from 'node:test';
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startGroup} from '../support/group.mjs';
import {generate, poolKey, eventually, REPO_ROOT} from '../support/gateway.mjs';
import {newAdminToken, registerSecret, api, ok, adminError} from './admin-lib.mjs';

const PROPAGATE = {timeoutMs: 30000, intervalMs: 100};

let fake;
test.before(async () => { fake = await startFakeGemini(); });
test.after(async () => { await fake?.close(); });

async function group(t, opts = {}) {
  const adminToken = newAdminToken('out');
  registerSecret('the admin token', adminToken);
  const g = await startGroup({fake, authToken: adminToken, ...opts});
  t.after(() => g.close());
  for (const k of g.keys) registerSecret('a pool key', k);
  g.admin = (gw) => ({gw, adminToken});
  return g;
}

/** Holds SQLite's write lock on `file` (BEGIN EXCLUSIVE in a sqlite3 shell) until release(). */
async function holdWriteLock(file) {
  const shell = spawn('sqlite3', [file], {stdio: ['pipe', 'pipe', 'pipe']});
  let out = '';
  shell.stdout.on('data', (d) => { out += d; });
  shell.stderr.on('data', (d) => { out += d; });
  shell.stdin.write('PRAGMA busy_timeout=10000;\nBEGIN EXCLUSIVE;\nSELECT \'locked\';\n');
  await eventually(() => out.includes('locked'), {timeoutMs: 15000, what: `the lock (${out})`});
  return {
    async release() {
      shell.stdin.end('ROLLBACK;\n.quit\n');
      await new Promise((r) => shell.on('exit', r));
    },
  };
}

const sqliteFile = (url) => url.replace(/^file:/, '');

test('SQLite locked by another process: proxying goes on, admin writes 503 and change nothing, rows wait', async (t) => {
  if (process.env.GEMGATE_TEST_POSTGRES) return t.skip('a SQLite lock (the PostgreSQL run restarts a server instead)');
  const g = await group(t, {keys: [poolKey('Valid')]});
  const [A, B] = g.gws;
  const before = ok(await api(g.admin(B), 'GET', '/admin/api/settings'));
  const retriesBefore = before.items.find((x) => x.name === 'max_retries').value;
  const lock = await holdWriteLock(sqliteFile(g.databaseUrl));
  let released = false;
  t.after(async () => { if (!released) await lock.release(); });

  for (let i = 0; i < 5; i++) {
    for (const gw of [A, B]) {
      assert.equal((await generate(gw, `locked ${i}`, {token: g.token})).status, 200,
                   `${gw.name} proxies while the database is locked`);
    }
  }
  const patch = await api(g.admin(A), 'PATCH', '/admin/api/settings',
                          {body: {max_retries: retriesBefore === 5 ? 6 : 5}, timeoutMs: 120000});
  const err = adminError(patch, 503);
  assert.match(err.message, /storage/);
  const add = await api(g.admin(B), 'POST', '/admin/api/keys', {body: {keys: [poolKey('Valid')]},
                                                                    timeoutMs: 120000});
  adminError(add, 503);

  await lock.release();
  released = true;
  for (const gw of [A, B]) {
    const s = ok(await api(g.admin(gw), 'GET', '/admin/api/settings'));
    assert.equal(s.items.find((x) => x.name === 'max_retries').value, retriesBefore,
                 `the refused PATCH changed nothing on ${gw.name}`);
    const keys = ok(await api(g.admin(gw), 'GET', '/admin/api/keys'));
    assert.equal(keys.total ?? keys.items.length, 1, `the refused key add changed nothing on ${gw.name}`);
  }
  // The request rows of the locked period were kept and written once the lock went.
  await eventually(async () => {
    const logs = ok(await api(g.admin(B), 'GET', '/admin/api/logs?kind=request&per_page=100'));
    return logs.items.filter((r) => r.instance_id === 'gw-A').length >= 5 &&
           logs.items.filter((r) => r.instance_id === 'gw-B').length >= 5;
  }, {...PROPAGATE, what: 'the rows of the locked period'});
  // And the group works again: a write on A shows on B.
  ok(await api(g.admin(A), 'PATCH', '/admin/api/settings', {body: {max_retries: 7}}));
  await eventually(async () => {
    const s = ok(await api(g.admin(B), 'GET', '/admin/api/settings'));
    return s.items.find((x) => x.name === 'max_retries').value === 7;
  }, {...PROPAGATE, what: 'the next write seen on B'});
});

// ---- PostgreSQL ------------------------------------------------------------------------------

const PG_SERVER = path.join(REPO_ROOT, 'tests/support/pg-server.sh');

/** A PostgreSQL server of this test's own: {url, restart(), stop()}. */
function ownPostgresServer() {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-pg-outage-'));
  execFileSync('sh', [PG_SERVER, 'start', state], {stdio: ['ignore', 'pipe', 'pipe']});
  return {
    url: fs.readFileSync(path.join(state, 'url'), 'utf8').trim(),
    restart: () => execFileSync('sh', [PG_SERVER, 'restart', state], {stdio: ['ignore', 'pipe', 'pipe']}),
    stop: () => {
      execFileSync('sh', [PG_SERVER, 'stop', state], {stdio: ['ignore', 'pipe', 'pipe']});
      fs.rmSync(state, {recursive: true, force: true});
    },
  };
}

test('a PostgreSQL restart mid-traffic: B and C keep serving, no acknowledged admin write is lost', async (t) => {
  if (!process.env.GEMGATE_TEST_POSTGRES) return t.skip('runs in integration-pg.group-outage');
  const pg = ownPostgresServer();
  let g;
  t.after(async () => { await g?.close(); pg.stop(); });  // the gateways first, then the server
  const db = `gg_outage_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [`${pg.url}postgres`, '-qc', `CREATE DATABASE ${db}`]);
  g = await group(t, {keys: [poolKey('Valid'), poolKey('Valid')], databaseUrl: `${pg.url}${db}`});
  const [A, B, C] = g.gws;
  let stop = false;
  const failures = [];
  let served = 0;
  const traffic = [B, C].map(async (gw) => {
    while (!stop) {
      const r = await generate(gw, `load ${gw.name}`, {token: g.token});
      if (r.status === 200) served++;
      else failures.push(`${gw.name}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  });
  const acknowledged = [];
  let refused = 0;
  const writes = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await api(g.admin(A), 'POST', '/admin/api/tokens', {body: {label: `w${i}`},
                                                                      timeoutMs: 120000})
          .catch((e) => ({status: 0, text: String(e)}));
      if (r.status === 201) {
        acknowledged.push(r.json.id);
        registerSecret('a client token', r.json.token);
      } else {
        assert.equal(r.status, 503, `a write during the restart fails with 503: ${r.text}`);
        refused++;
      }
    }
  })();
  await eventually(() => acknowledged.length >= 5 && served >= 10, {...PROPAGATE, what: 'traffic'});
  pg.restart();
  const at = acknowledged.length;
  await eventually(() => acknowledged.length >= at + 5, {...PROPAGATE, what: 'writes after the restart'});
  stop = true;
  await Promise.all([...traffic, writes]);
  assert.deepEqual(failures, [], 'proxying never failed');
  for (const gw of [A, B, C]) {
    await eventually(async () => {
      const list = ok(await api(g.admin(gw), 'GET', '/admin/api/tokens'));
      const ids = new Set(list.items.map((x) => x.id));
      return acknowledged.every((id) => ids.has(id));
    }, {...PROPAGATE, what: `every acknowledged token listed on ${gw.name}`});
  }
  t.diagnostic(`${acknowledged.length} writes acknowledged, ${refused} refused with 503`);
});
