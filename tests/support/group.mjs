// A group of gateways on one database: startGroup() starts the stand-in upstream (or reuses
// one) and `n` gemgate processes sharing one DATABASE_URL — a SQLite file in a temp dir of its
// own (several processes on one WAL file form a group through the SQLite change feed), or, when
// GEMGATE_TEST_POSTGRES names the test server (CTest's integration-pg.* entries), one database
// on that server for the whole group (pg-database.mjs). opts.databaseUrl overrides both.
// Each gateway keeps its own data dir, config and log; the master key file lives beside the
// shared SQLite file, so all of them open the sealed keys.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from './fake-gemini.mjs';
import {startGateway, poolKey, clientToken} from './gateway.mjs';
import {dropDatabaseFor, postgresBaseUrl, postgresEnvFor} from './pg-database.mjs';

/**
 * opts: n (3), keys (pool keys, default one valid), tokens (default one), authToken, env,
 * settings, fake, databaseUrl, unnamed. Returns {fake, gws: [A, B, C, …], keys, tokens, token,
 * databaseUrl, close()}. The gateways start one after another (the first one migrates and
 * bootstraps; the others find the keys and tokens already stored).
 */
export async function startGroup(opts = {}) {
  const ownFake = !opts.fake;
  const fake = opts.fake || await startFakeGemini();
  fake.reset();
  const keys = opts.keys || [poolKey('Valid')];
  const tokens = opts.tokens || [clientToken()];
  const sharedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-group-'));
  let databaseUrl = opts.databaseUrl;
  const onPostgres = !databaseUrl && postgresBaseUrl() !== null;
  if (onPostgres) databaseUrl = postgresEnvFor(sharedDir).DATABASE_URL;
  if (!databaseUrl) databaseUrl = `file:${path.join(sharedDir, 'gemgate.db')}`;
  const env = {API_KEYS: keys.join(','), ALLOWED_TOKENS: tokens.join(','), DATABASE_URL: databaseUrl,
               ...opts.env};
  if (opts.authToken) env.AUTH_TOKEN = opts.authToken;
  if (!process.env.GEMGATE_MASTER_KEY && !env.GEMGATE_MASTER_KEY) {
    // One master key for the group, whatever the database (a PostgreSQL group has no file
    // beside the database to share).
    env.GEMGATE_MASTER_KEY = 'ab'.repeat(32);
  }
  const gws = [];
  const close = async () => {
    for (const gw of gws) await gw.dispose();
    if (ownFake) await fake.close();
    if (!process.env.KEEP_TEST_DATA) {
      if (onPostgres) dropDatabaseFor(sharedDir);
      fs.rmSync(sharedDir, {recursive: true, force: true});
    }
  };
  try {
    for (let i = 0; i < (opts.n || 3); i++) {
      const name = String.fromCharCode(65 + i);  // A, B, C
      // opts.unnamed: no GEMGATE_INSTANCE_ID (each gateway then calls itself <hostname>-<pid>).
      const named = opts.unnamed ? {} : {GEMGATE_INSTANCE_ID: `gw-${name}`};
      gws.push(await startGateway({env: {...env, ...named}, upstream: fake,
                                   settings: opts.settings}));
      gws[i].name = opts.unnamed ? null : `gw-${name}`;
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {fake, gws, keys, tokens, token: tokens[0], databaseUrl, onPostgres, close};
}
