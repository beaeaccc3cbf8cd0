// What an operator trips over: --check-config lists every problem of a file in one run (with
// positions, did-you-mean hints and the environment variable a value came from); a bad
// environment stops the start before anything is stored; the start-up hints can be followed;
// --help states the minimum lengths.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {gatewayBin, startGateway, poolKey, clientToken} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const dirs = [];
after(() => { for (const d of dirs) fs.rmSync(d, {recursive: true, force: true}); });
function tmpDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-ops-'));
  dirs.push(d);
  return d;
}

/** Runs the binary to completion with exactly `env` (plus PATH); resolves {code, stdout, stderr}. */
function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(gatewayBin(), args, {cwd: tmpDir(), env: {PATH: process.env.PATH, ...env}});
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({code, stdout, stderr}); });
  });
}

const SEVERAL_ERRORS = `listeners:
  - address: 127.0.0.1:0
limits:
  head_timeout: \${GG_HEAD_TIMEOUT}
  body_timout: 30s
  max_body_bytes: 16MiB
storage:
  database_url: \${DATABASE_URL}
settings:
  max_retrys: 3
chains:
  gemini:
    filters:
      - log: {}
      - autth: {}
      - upstream: {base_url: "http://127.0.0.1:9"}
routes:
  - { prefix: /v1beta/, chain: gemini }
`;

test('--check-config reports every error of the file in one run, with hints and variable names', async () => {
  const file = path.join(tmpDir(), 'several.yaml');
  fs.writeFileSync(file, SEVERAL_ERRORS);
  const r = await run(['--check-config', '--config', file], {
    GG_HEAD_TIMEOUT: 'soon',
    // PostgreSQL URLs are accepted; this one has a query parameter libpq does not know.
    DATABASE_URL: 'postgres://gemgate:db-pass-0123456789@db.internal/gemgate?sslmod=require',
    ALLOWED_TOKENS: 'short',
  });
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  const expect = [
    new RegExp(`^${file}:4:17: 'head_timeout' must be a duration like 250ms, 10s, 5m, 2h; got ` +
               `'soon' \\(the value came from environment variable GG_HEAD_TIMEOUT\\)$`),
    new RegExp(`^${file}:5:16: unknown key 'body_timout' \\(did you mean 'body_timeout'\\?\\)$`),
    new RegExp(`^${file}:8:17: database_url: DATABASE_URL is not a valid PostgreSQL connection ` +
               `string .*` +
               `\\(the value came from environment variable DATABASE_URL\\)$`),
    new RegExp(`^${file}:10:15: unknown setting 'max_retrys' \\(did you mean 'max_retries'\\?\\)$`),
    new RegExp(`^${file}:15:9: unknown filter 'autth' \\(did you mean 'auth'\\?\\)$`),
    /^environment: ALLOWED_TOKENS item 1 is 5 characters long; client tokens need 8 to 256/,
    /^gemgate: 6 configuration error\(s\)$/,
  ];
  assert.equal(lines.length, expect.length, r.stderr);
  expect.forEach((re, i) => assert.match(lines[i], re));
  assert.doesNotMatch(r.stderr, /db-pass-0123456789/, 'the database password is never shown');
});

test('a bad AUTH_TOKEN stops the start before the keys are stored; the next start stores them', async () => {
  const dataDir = tmpDir();
  const key = poolKey('Valid');
  await assert.rejects(
      startGateway({dataDir, upstream: fake, env: {API_KEYS: key, AUTH_TOKEN: 'admin'}}),
      (e) => {
        assert.match(e.message, /AUTH_TOKEN must be at least 16 characters long/);
        assert.match(e.message, /nothing was started or stored/);
        return true;
      });
  // Same data dir, no API_KEYS now: had the first start stored the key, it would load it.
  const gw = await startGateway({dataDir, upstream: fake, env: {AUTH_TOKEN: 'admin-token-0123456789'}});
  try {
    assert.match(gw.logs(), /loaded 0 API key\(s\)/, 'the refused start stored no key');
  } finally {
    await gw.stop();
  }
  const gw2 = await startGateway({dataDir, upstream: fake,
                                  env: {API_KEYS: key, AUTH_TOKEN: 'admin-token-0123456789'}});
  try {
    assert.match(gw2.logs(), /loaded 1 API key\(s\)/);
  } finally {
    await gw2.dispose();
  }
});

test('a short ALLOWED_TOKENS item is refused at start, naming the minimum; the hint is one that works', async () => {
  const dataDir = tmpDir();
  await assert.rejects(
      startGateway({dataDir, upstream: fake, env: {ALLOWED_TOKENS: 'token1,token2'}}),
      /ALLOWED_TOKENS item 1 is 6 characters long; client tokens need 8 to 256/);
  const gw = await startGateway({dataDir, upstream: fake, env: {}});
  const hint = gw.logs().match(/no client tokens yet: start with ALLOWED_TOKENS set to one or more tokens of (\d+) to (\d+) characters/);
  await gw.stop();
  assert.ok(hint, gw.logs());
  // Following the hint: a token of exactly the stated minimum is accepted and works.
  const token = clientToken().slice(0, Number(hint[1]));
  const ok = await startGateway({dataDir, upstream: fake,
                                 env: {ALLOWED_TOKENS: token, API_KEYS: poolKey('Valid')}});
  try {
    const r = await fetch(`${ok.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST', headers: {'x-goog-api-key': token, 'content-type': 'application/json'},
      body: JSON.stringify({contents: [{parts: [{text: 'hi'}]}]})});
    assert.equal(r.status, 200);
  } finally {
    await ok.dispose();
  }
});

test('--help states the minimum lengths and SIGHUP', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /ALLOWED_TOKENS .*8 to 256 characters/);
  assert.match(h.stdout, /AUTH_TOKEN .*at least 16 characters/);
  assert.match(h.stdout, /API_KEYS[\s\S]*20 to 256 characters/);
  assert.match(h.stdout, /SIGHUP/);
  assert.match(h.stdout, /HTTPS_PROXY/);
});
