// Harness that runs the real gemgate binary for the integration and e2e suites.
//
//   const gw = await startGateway({env: {API_KEYS: 'k1,k2', ALLOWED_TOKENS: 't1'},
//                                  upstream: fake, settings: {max_retries: 3}});
//   ... fetch(`${gw.url}/healthz`) ...
//   await gw.restart();            // same data dir, new port (gw.url / gw.port are updated)
//   const {code} = await gw.stop(); // SIGTERM by default; resolves with the exit status
//   await gw.dispose();            // stop (SIGKILL after a grace period) and delete the data dir
//
// The binary is $GEMGATE_BIN, else <repo>/build/conf/gemgate. It is started with
// `--listen 127.0.0.1:0` and the harness parses the stderr line "listening on http://H:P".
// Every gateway gets a fresh temp data dir (DATABASE_URL=file:<dir>/gemgate.db, or its own
// PostgreSQL database when GEMGATE_TEST_POSTGRES is set: see pg-database.mjs) and an
// environment stripped of proxies and of any gemgate variable inherited from the caller.
// Helpers for raw sockets, SSE and Gemini calls live in net-helpers.mjs and gemini-client.mjs
// and are re-exported here so tests import one module.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {dropDatabaseFor, postgresEnvFor} from './pg-database.mjs';

export * from './net-helpers.mjs';
export * from './gemini-client.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG = path.join(REPO_ROOT, 'conf', 'gemgate.yaml');

/** The gemgate binary the suites run. */
export function gatewayBin() {
  return process.env.GEMGATE_BIN || path.join(REPO_ROOT, 'build', 'conf', 'gemgate');
}

/**
 * Names of the `settings:` block as the tests spell them → as conf/gemgate.yaml spells them.
 * The contract's names are used by the tests; if the gateway renames one, fix it here only.
 */
export const SETTING_NAMES = {
  max_retries: 'max_retries',
  max_failures: 'max_failures',
  cooldown_default_s: 'cooldown_default_s',
  cooldown_max_s: 'cooldown_max_s',
  health_check_model: 'health_check_model',
  health_check_interval_s: 'health_check_interval_s',
  upstream_connect_timeout_ms: 'upstream_connect_timeout_ms',
  upstream_first_byte_timeout_ms: 'upstream_first_byte_timeout_ms',
  upstream_idle_timeout_ms: 'upstream_idle_timeout_ms',
  upstream_total_timeout_ms: 'upstream_total_timeout_ms',
};

/** Variables never inherited from the caller's environment (they would change the test). */
const SCRUBBED_ENV = ['API_KEYS', 'ALLOWED_TOKENS', 'AUTH_TOKEN', 'CRON_SECRET', 'DATABASE_URL',
                      'GOOGLE_API_HOST', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'http_proxy',
                      'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'];

/**
 * Returns the YAML text to pass with --config: `configYaml` if given, else conf/gemgate.yaml,
 * with the values of `settings` substituted in its top-level `settings:` block (lines
 * "  <name>: <value>"; a missing name is added at the top of the block; a missing block is
 * appended). Returns null when there is nothing to patch: the gateway then runs on the copy of
 * conf/gemgate.yaml built into the binary (which always matches the binary, even while the
 * file in the tree is ahead of the last build). All knowledge of the config layout is here.
 */
export function buildConfig({configYaml, settings} = {}) {
  const patch = settings && Object.keys(settings).length ? settings : null;
  let text = configYaml;
  if (text === undefined || text === null) {
    if (!patch) return null;
    text = fs.existsSync(DEFAULT_CONFIG) ? fs.readFileSync(DEFAULT_CONFIG, 'utf8') : '';
  }
  if (!patch) return text;
  settings = patch;
  let lines = text.split('\n');
  let start = lines.findIndex((l) => /^settings:\s*(\{\s*\})?\s*(#.*)?$/.test(l));
  if (start < 0) {
    if (lines.length && lines[lines.length - 1] !== '') lines.push('');
    lines.push('settings:');
    start = lines.length - 1;
  } else {
    lines[start] = 'settings:';
  }
  let end = start + 1;
  while (end < lines.length && (/^\s+\S/.test(lines[end]) || /^\s*(#.*)?$/.test(lines[end]))) end++;
  const indentLine = lines.slice(start + 1, end).find((l) => /^\s+[A-Za-z_]/.test(l));
  const indent = indentLine ? indentLine.match(/^\s+/)[0] : '  ';
  for (const [name, value] of Object.entries(settings)) {
    const real = SETTING_NAMES[name] || name;
    const yamlValue = typeof value === 'string' && !/^[A-Za-z0-9_.\-]+$/.test(value)
                          ? JSON.stringify(value) : String(value);
    const re = new RegExp(`^${indent}${real}\\s*:`);
    const i = lines.slice(start + 1, end).findIndex((l) => re.test(l));
    if (i >= 0) {
      lines[start + 1 + i] = `${indent}${real}: ${yamlValue}`;
    } else {
      lines.splice(start + 1, 0, `${indent}${real}: ${yamlValue}`);
      end++;
    }
  }
  return lines.join('\n');
}

const live = new Set();
process.on('exit', () => {
  for (const p of live) { try { p.kill('SIGKILL'); } catch { /* already gone */ } }
});

/**
 * Starts gemgate. Options:
 *   env         extra environment (API_KEYS, ALLOWED_TOKENS, CRON_SECRET, AUTH_TOKEN, ...)
 *   upstream    the fake upstream handle or its URL → GOOGLE_API_HOST (and a TLS fake's
 *               caFile → GEMGATE_UPSTREAM_CA_FILE)
 *   settings    values patched into the config's settings block (see buildConfig)
 *   configYaml  a whole config text to start from instead of conf/gemgate.yaml
 *   dataDir     reuse a data dir (default: a fresh temp dir)
 *   args        extra CLI arguments
 *   startTimeoutMs  how long to wait for the "listening on" line (10 s)
 * Resolves to {url, port, proc, dataDir, configPath, logs(), stop(), restart(), dispose()};
 * rejects with the captured logs when the gateway exits or stays silent.
 */
export async function startGateway(opts = {}) {
  const dataDir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-it-'));
  const gw = {dataDir, opts: {...opts, dataDir}, output: [], runs: 0};
  const yaml = buildConfig(opts);
  if (yaml !== null) {
    gw.configPath = path.join(dataDir, 'gemgate.test.yaml');
    fs.writeFileSync(gw.configPath, yaml);
  }
  gw.logs = () => gw.output.map((o) => o.text).join('');
  gw.stop = (o) => stopGateway(gw, o);
  gw.restart = async (o = {}) => {
    await stopGateway(gw, o);
    await launch(gw);
    return gw;
  };
  gw.dispose = async () => {
    if (gw.proc && gw.exitInfo === null) await stopGateway(gw, {timeoutMs: 3000});
    if (!process.env.KEEP_TEST_DATA) {
      fs.rmSync(gw.dataDir, {recursive: true, force: true});
      dropDatabaseFor(gw.dataDir);
    }
  };
  try {
    await launch(gw);
  } catch (e) {
    if (!process.env.KEEP_TEST_DATA && !opts.dataDir) fs.rmSync(dataDir, {recursive: true, force: true});
    throw e;
  }
  return gw;
}

function gatewayEnv(gw) {
  const env = {...process.env};
  for (const k of SCRUBBED_ENV) delete env[k];
  const up = gw.opts.upstream;
  Object.assign(env, {
    DATABASE_URL: `file:${path.join(gw.dataDir, 'gemgate.db')}`,
    NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
  });
  // A test that brings its own DATABASE_URL (a SQLite path on purpose) keeps it.
  if (!(gw.opts.env && 'DATABASE_URL' in gw.opts.env)) {
    Object.assign(env, postgresEnvFor(gw.dataDir));
  }
  if (up) env.GOOGLE_API_HOST = typeof up === 'string' ? up : up.url;
  // A TLS stand-in (startFakeGemini({tls: true})) is trusted through its own certificate.
  if (up?.caFile) env.GEMGATE_UPSTREAM_CA_FILE = up.caFile;
  for (const [k, v] of Object.entries(gw.opts.env || {})) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

async function launch(gw) {
  const bin = gatewayBin();
  if (!fs.existsSync(bin)) {
    throw new Error(`gemgate binary not found at ${bin}: build it (cmake --build build --target ` +
                    'gemgate) or set GEMGATE_BIN');
  }
  const args = ['--listen', '127.0.0.1:0'];
  if (gw.configPath) args.push('--config', gw.configPath);
  args.push(...(gw.opts.args || []));
  const run = ++gw.runs;
  const proc = spawn(bin, args, {cwd: gw.dataDir, env: gatewayEnv(gw),
                                 stdio: ['ignore', 'pipe', 'pipe']});
  live.add(proc);
  gw.proc = proc;
  gw.exitInfo = null;
  gw.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      gw.exitInfo = {code, signal};
      resolve(gw.exitInfo);
    });
  });
  gw.exited.then((e) => gw.output.push({stream: 'harness', text:
      `[harness] run ${run} exited code=${e.code} signal=${e.signal}\n`}));
  const timeoutMs = gw.opts.startTimeoutMs || 10000;
  const cmd = `${bin} ${args.join(' ')}`;
  await new Promise((resolve, reject) => {
    let buf = '';
    let settled = false;
    const settle = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err); else resolve();
    };
    const onData = (stream) => (chunk) => {
      const text = chunk.toString('utf8');
      gw.output.push({stream, text, at: Date.now()});
      if (settled) return;
      buf += text;
      const m = buf.match(/listening on http:\/\/([^\s:/]+):(\d+)/);
      if (m) {
        gw.host = m[1];
        gw.port = Number(m[2]);
        gw.url = `http://${m[1]}:${m[2]}`;
        settle();
      }
    };
    proc.stdout.on('data', onData('stdout'));
    proc.stderr.on('data', onData('stderr'));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      settle(new Error(`gemgate did not print "listening on http://…" within ${timeoutMs} ms.\n` +
                       `command: ${cmd}\nlogs:\n${gw.logs()}`));
    }, timeoutMs);
    gw.exited.then((e) => settle(new Error(
        `gemgate exited (code=${e.code} signal=${e.signal}) before listening.\n` +
        `command: ${cmd}\nlogs:\n${gw.logs()}`)));
    proc.on('error', (err) => settle(err));
  });
}

/**
 * Sends `signal` (SIGTERM) and waits up to timeoutMs (10 s) for the exit; then SIGKILLs.
 * Resolves to {code, signal, timedOut, ms}.
 */
async function stopGateway(gw, {signal = 'SIGTERM', timeoutMs = 10000} = {}) {
  if (!gw.proc) return null;
  if (gw.exitInfo) return {...gw.exitInfo, timedOut: false, ms: 0};
  const t0 = Date.now();
  gw.proc.kill(signal);
  let timer;
  const timedOut = await Promise.race([
    gw.exited.then(() => false),
    new Promise((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    gw.proc.kill('SIGKILL');
    await gw.exited;
  }
  return {...gw.exitInfo, timedOut, ms: Date.now() - t0};
}

/**
 * Everything the gateway wrote that an operator would call its logs: stdout and stderr of all
 * runs, plus log files in its data dir (*.log, *.jsonl, anything under a log/ or logs/ folder).
 * The database is not a log (secrets at rest are a separate concern) and is not included.
 */
export function collectGatewayLogs(gw) {
  let text = gw.output.filter((o) => o.stream !== 'harness').map((o) => o.text).join('');
  const walk = (dir, inLogDir) => {
    for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, inLogDir || /^logs?$/i.test(e.name));
      else if (inLogDir || /\.(log|jsonl)(\.\d+)?$/.test(e.name)) {
        text += `\n--- ${p} ---\n${fs.readFileSync(p, 'utf8')}`;
      }
    }
  };
  if (fs.existsSync(gw.dataDir)) walk(gw.dataDir, false);
  return text;
}

/**
 * Asserts that none of `secrets` ({kind: value}) occurs in `haystack` (a log, an answer, raw
 * database bytes as text). Fails with the secret's kind and a masked excerpt, never printing the
 * secret itself.
 */
export function assertAbsent(haystack, secrets, where) {
  for (const [kind, secret] of Object.entries(secrets)) {
    const i = haystack.indexOf(secret);
    if (i >= 0) {
      const ctx = haystack.slice(Math.max(0, i - 60), i + secret.length + 20)
                      .split(secret).join('<SECRET>');
      assert.fail(`${kind} found in ${where}: …${ctx}…`);
    }
  }
}
