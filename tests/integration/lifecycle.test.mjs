// Process lifecycle and command line: --version / --help / --check-config, refusing a broken
// config with a useful message, and SIGTERM as a graceful stop that lets a running stream finish
// and exits 0.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {gatewayBin, buildConfig, DEFAULT_CONFIG, streamGenerate, sseEvents, generate, call,
        sleep} from '../support/gateway.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

/** Runs the binary to completion; resolves {code, signal, stdout, stderr}. */
function run(args, {timeoutMs = 10000, env = {}} = {}) {
  return new Promise((resolve) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-cli-'));
    const p = spawn(gatewayBin(), args, {cwd: dir, env: {...process.env,
      DATABASE_URL: `file:${path.join(dir, 'gemgate.db')}`, ...env}});
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      fs.rmSync(dir, {recursive: true, force: true});
      resolve({code, signal, stdout, stderr});
    });
  });
}

const tmpDirs = [];
after(() => { for (const d of tmpDirs) fs.rmSync(d, {recursive: true, force: true}); });

function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-cfg-'));
  tmpDirs.push(dir);
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

test('--version and --help print and exit 0', async () => {
  const v = await run(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout + v.stderr, /\d+\.\d+\.\d+/, 'a version number');
  const h = await run(['--help']);
  assert.equal(h.code, 0, h.stderr);
  for (const flag of ['--config', '--listen', '--check-config']) {
    assert.ok((h.stdout + h.stderr).includes(flag), `--help mentions ${flag}`);
  }
});

test('--check-config accepts the shipped config and rejects a broken one with file and setting', async () => {
  if (fs.existsSync(DEFAULT_CONFIG)) {
    const ok = await run(['--check-config', '--config', DEFAULT_CONFIG]);
    assert.equal(ok.code, 0, `conf/gemgate.yaml is valid: ${ok.stderr}`);
  }
  const broken = tmpFile('broken.yaml', buildConfig({settings: {max_retries: 'banana'}}));
  const bad = await run(['--check-config', '--config', broken]);
  assert.notEqual(bad.code, 0, 'a non-numeric max_retries is refused');
  const out = bad.stdout + bad.stderr;
  assert.ok(out.includes('broken.yaml'), `the message names the file: ${out.slice(0, 400)}`);
  assert.ok(out.includes('max_retries'), `the message names the setting: ${out.slice(0, 400)}`);
  const garbage = tmpFile('garbage.yaml', 'settings: [unclosed\n');
  const g = await run(['--check-config', '--config', garbage]);
  assert.notEqual(g.code, 0, 'invalid YAML is refused');
  const missing = await run(['--check-config', '--config', '/nonexistent/gemgate.yaml']);
  assert.notEqual(missing.code, 0, 'a missing config file is refused');
});

test('SIGTERM while idle: exits 0 promptly', async (t) => {
  const s = await startStack({fake});
  t.after(() => s.close());
  assert.equal((await call(s.gw, '/healthz')).status, 200);
  const r = await s.gw.stop({timeoutMs: 5000});
  assert.equal(r.timedOut, false, 'stopped without SIGKILL');
  assert.equal(r.code, 0, `exit status ${JSON.stringify(r)}\n${s.gw.logs()}`);
  assert.ok(r.ms < 3000, `stopped in ${r.ms} ms`);
});

test('SIGTERM during a slow stream lets it finish, then exits 0', async (t) => {
  const s = await startStack({fake});
  t.after(() => s.close());
  const res = await streamGenerate(s.gw, 'drain [[chunks=10 interval=200]]', {token: s.token});
  assert.equal(res.status, 200);
  let signalledAt = 0;
  const stopping = [];
  const out = await sseEvents(res, {onEvent: (ev, o) => {
    if (o.events.length === 1) {
      signalledAt = Date.now();
      stopping.push(s.gw.stop({timeoutMs: 15000}));
    }
  }});
  const streamEnd = Date.now();
  const exit = await stopping[0];
  assert.ok(out.complete, `stream completed (${out.error})`);
  assert.equal(out.events.length, 10, 'all events delivered after SIGTERM');
  assert.ok(streamEnd - signalledAt >= 1500, 'the stream really outlived the signal');
  assert.equal(exit.timedOut, false);
  assert.equal(exit.code, 0, `exit status ${JSON.stringify(exit)}\n${s.gw.logs().slice(-2000)}`);
});

test('a gateway that cannot reach its upstream answers 5xx JSON quickly and keeps running', async (t) => {
  const dead = await startFakeGemini();
  const url = dead.url;
  await dead.close();  // nothing listens there any more: connection refused
  const s = await startStack({fake, settings: {upstream_connect_timeout_ms: 1000}});
  t.after(() => s.close());
  await s.gw.stop();
  s.gw.opts.upstream = url;
  await s.gw.restart();
  const r = await generate(s.gw, 'x', {token: s.token});
  assert.ok(r.status >= 500 && r.status <= 504, `got ${r.status}`);
  assert.ok(r.json?.error, 'JSON error');
  assert.ok(r.ms < 3000, `answered in ${r.ms} ms`);
  await sleep(100);
  assert.equal((await call(s.gw, '/healthz')).status, 200, 'still alive');
});
