// The PostgreSQL side of the harness: when GEMGATE_TEST_POSTGRES names the url file of the test
// server (tests/support/pg-server.sh; CTest's integration-pg.* entries set it), every gateway
// gets its own database on that server instead of a SQLite file. The database is keyed by the
// gateway's data dir, so a restart with the same data dir finds its data again, and dropped
// when the data dir is disposed of. The master key comes from GEMGATE_MASTER_KEY, derived from
// the data dir for the same reason (a PostgreSQL store has no "key file beside the database").

import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';

/** The test server's base URL ("postgresql://user:pw@127.0.0.1:port/"), or null for SQLite. */
export function postgresBaseUrl() {
  const file = process.env.GEMGATE_TEST_POSTGRES;
  if (!file) return null;
  const url = fs.readFileSync(file, 'utf8').trim();
  if (!url) throw new Error(`GEMGATE_TEST_POSTGRES=${file} holds no URL (is the server up?)`);
  return url;
}

/** The database name of the gateway whose data dir is `dataDir`. */
export function databaseFor(dataDir) {
  return 'it_' + crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 24);
}

function psql(sql) {
  execFileSync('psql', [`${postgresBaseUrl()}postgres`, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql],
               {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, PGCONNECT_TIMEOUT: '10'}});
}

const created = new Set();

/**
 * The environment that points a gateway at its PostgreSQL database (created on first use in
 * this process; a leftover of the same name is dropped first), or {} for SQLite runs.
 */
export function postgresEnvFor(dataDir) {
  const base = postgresBaseUrl();
  if (!base) return {};
  const db = databaseFor(dataDir);
  if (!created.has(db)) {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    psql(`CREATE DATABASE ${db} TEMPLATE template0`);
    created.add(db);
  }
  return {
    DATABASE_URL: `${base}${db}`,
    GEMGATE_MASTER_KEY: crypto.createHash('sha256').update(`master:${dataDir}`).digest('hex'),
  };
}

/** Drops the database of `dataDir` (after its gateway stopped). */
export function dropDatabaseFor(dataDir) {
  if (!postgresBaseUrl()) return;
  const db = databaseFor(dataDir);
  if (!created.delete(db)) return;
  try {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } catch { /* the server stop removes it anyway */ }
}
