// The Debian packages, made the way the Dockerfile and a release make them (dist/package.sh,
// i.e. cpack -G DEB in an existing build tree), then taken apart and run:
//  - dpkg-deb lists the binary, the man page, the unit and the configuration; the control file
//    depends on Debian's runtime packages and adduser, marks the configuration a conffile, and
//    carries the maintainer scripts; postinst, run against stand-ins, creates the user once and
//    enables nothing;
//  - a program built with the extracted gemgate-dev's pkg-config file links and runs;
//  - the unit, extracted, passes `systemd-analyze verify` (when systemd is installed);
//  - the extracted binary validates the extracted configuration, then serves one request
//    through the stand-in upstream with a pool key: 200 and the upstream's answer.
// Needs BUILD_DIR (the configured build tree) in the environment; CTest passes it.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {startFakeGemini} from '../support/fake-gemini.mjs';
import {REPO_ROOT, clientToken, generate, poolKey, startGateway} from '../support/gateway.mjs';

const buildDir = process.env.BUILD_DIR || path.join(REPO_ROOT, 'build');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-deb-'));
const out = path.join(work, 'out');
const root = path.join(work, 'root');
let debs = {};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts});
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function field(deb, name) {
  return run('dpkg-deb', ['-f', deb, name]).trim();
}

before(() => {
  run('sh', [path.join(REPO_ROOT, 'dist', 'package.sh'), buildDir, out], {env: {...process.env, JOBS: '2'}});
  for (const f of fs.readdirSync(out)) {
    const m = /^(gemgate(?:-dev)?)_([^_]+)_([^_]+)\.deb$/.exec(f);
    if (m) debs[m[1]] = path.join(out, f);
  }
  assert.ok(debs.gemgate, `no gemgate_*.deb in ${fs.readdirSync(out).join(', ')}`);
  assert.ok(debs['gemgate-dev'], 'no gemgate-dev_*.deb');
  run('dpkg-deb', ['-x', debs.gemgate, root]);
});

after(() => {
  if (!process.env.KEEP_TEST_DATA) fs.rmSync(work, {recursive: true, force: true});
});

test('the service package holds the binary, man page, unit, sysusers entry and configuration', () => {
  const list = run('dpkg-deb', ['-c', debs.gemgate]);
  const files = list.split('\n').map((l) => l.split(/\s+/).pop()).filter(Boolean);
  for (const f of ['./usr/bin/gemgate', './usr/share/man/man1/gemgate.1',
                   './usr/lib/systemd/system/gemgate.service', './usr/lib/sysusers.d/gemgate.conf',
                   './etc/gemgate/gemgate.yaml']) {
    assert.ok(files.includes(f), `${f} missing from the package:\n${list}`);
  }
  assert.match(list, /-rwxr-xr-x root\/root .* \.\/usr\/bin\/gemgate\n/);
  // Nothing of the SDK in the service package, nothing of the service in the SDK package.
  assert.ok(!files.some((f) => f.includes('/include/') || f.endsWith('.a')), 'SDK files in gemgate');
  const dev = run('dpkg-deb', ['-c', debs['gemgate-dev']]);
  assert.match(dev, /\.\/usr\/include\/gemgate\/filters\/openai\/translate\/translate\.h\n/);
  assert.match(dev, /\.\/usr\/lib\/[^ ]*cmake\/gemgate\/gemgateConfig\.cmake\n/);
  assert.match(dev, /\.\/usr\/lib\/[^ ]*pkgconfig\/gemgate-openai-translate\.pc\n/);
  assert.doesNotMatch(dev, /usr\/bin\/gemgate/);
  // The installed configuration is the built-in one.
  assert.equal(fs.readFileSync(path.join(root, 'etc/gemgate/gemgate.yaml'), 'utf8'),
               fs.readFileSync(path.join(REPO_ROOT, 'conf/gemgate.yaml'), 'utf8'));
});

test('the SDK package links: a program built with its pkg-config file runs', () => {
  const devRoot = path.join(work, 'dev-root');
  run('dpkg-deb', ['-x', debs['gemgate-dev'], devRoot]);
  const pcDir = path.join(devRoot, 'usr/lib/pkgconfig');
  const flags = run('pkg-config', ['--cflags', '--libs', 'gemgate-openai-translate'],
                    {env: {...process.env, PKG_CONFIG_PATH: pcDir}}).trim().split(/\s+/);
  const program = path.join(work, 'translate.cpp');
  fs.writeFileSync(program, `#include <cstdio>
#include "filters/openai/translate/translate.h"
int main() {
  auto r = gemgate::openai::translate_chat_request(
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]})");
  std::puts(r.has_value() ? "translated" : "failed");
  return r.has_value() ? 0 : 1;
}
`);
  const exe = path.join(work, 'translate');
  run('c++', ['-std=c++20', '-o', exe, program, ...flags]);
  assert.equal(run(exe, []).trim(), 'translated');
});

test('the control file depends on Debian runtime packages and runs the maintainer scripts', () => {
  const depends = field(debs.gemgate, 'Depends');
  for (const pkg of ['libuv1', 'libcurl4', 'libsqlite3-0', 'libyaml-cpp0.7', 'libssl3', 'libc6',
                     'adduser', 'ca-certificates']) {
    assert.match(depends, new RegExp(`(^|, )${pkg.replace('.', '\\.')}( \\(|,|$)`),
                 `Depends lacks ${pkg}: ${depends}`);
  }
  assert.equal(field(debs.gemgate, 'Package'), 'gemgate');
  assert.match(field(debs['gemgate-dev'], 'Depends'), /libuv1-dev.*libyaml-cpp-dev.*rapidjson-dev/);

  const control = path.join(work, 'control');
  run('dpkg-deb', ['-e', debs.gemgate, control]);
  assert.equal(fs.readFileSync(path.join(control, 'conffiles'), 'utf8').trim(),
               '/etc/gemgate/gemgate.yaml');
  const postinst = fs.readFileSync(path.join(control, 'postinst'), 'utf8');
  assert.doesNotMatch(postinst, /^\s*systemctl (enable|start)\b/m, 'postinst enables or starts');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    const mode = fs.statSync(path.join(control, script)).mode & 0o777;
    assert.equal(mode, 0o755, `${script} mode ${mode.toString(8)}`);
    run('sh', ['-n', path.join(control, script)]);
  }
});

test('postinst creates the user once and says that it enabled nothing', () => {
  // Run against stand-ins for the commands it calls (no user is created on this machine): each
  // records its arguments; getent answers "no such user" until told otherwise.
  const control = path.join(work, 'control-run');
  run('dpkg-deb', ['-e', debs.gemgate, control]);
  const stubs = path.join(work, 'stubs');
  const calls = path.join(work, 'calls.log');
  fs.mkdirSync(stubs, {recursive: true});
  for (const cmd of ['adduser', 'install', 'systemctl']) {
    fs.writeFileSync(path.join(stubs, cmd), `#!/bin/sh\necho "${cmd} $*" >>"${calls}"\n`, {mode: 0o755});
  }
  const getent = (exists) => fs.writeFileSync(path.join(stubs, 'getent'),
      `#!/bin/sh\necho "getent $*" >>"${calls}"\nexit ${exists ? 0 : 2}\n`, {mode: 0o755});
  const env = {...process.env, PATH: `${stubs}:${process.env.PATH}`};

  getent(false);
  const first = run('sh', [path.join(control, 'postinst'), 'configure', ''], {env});
  let log = fs.readFileSync(calls, 'utf8');
  assert.match(log, /^adduser --system --group --home \/var\/lib\/gemgate --no-create-home .* gemgate$/m);
  assert.doesNotMatch(log, /systemctl (enable|start)/);
  assert.match(first, /not enabled and not started/);

  fs.rmSync(calls);
  getent(true);
  const upgrade = run('sh', [path.join(control, 'postinst'), 'configure', '0.0.9'], {env});
  log = fs.readFileSync(calls, 'utf8');
  assert.doesNotMatch(log, /adduser/, 'an existing user is created again');
  assert.doesNotMatch(upgrade, /not enabled/);
});

test('the extracted unit runs the packaged binary as its own user, hardened, and verifies', (t) => {
  const unitPath = path.join(root, 'usr/lib/systemd/system/gemgate.service');
  const unit = fs.readFileSync(unitPath, 'utf8');
  for (const line of ['User=gemgate', 'StateDirectory=gemgate', 'EnvironmentFile=-/etc/gemgate/env',
                      'ExecStart=/usr/bin/gemgate --config /etc/gemgate/gemgate.yaml',
                      "ExecReload=/bin/sh -c 'kill -HUP $MAINPID'",
                      'Environment=DATABASE_URL=file:/var/lib/gemgate/gemgate.db',
                      'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes']) {
    assert.ok(unit.split('\n').includes(line), `the unit lacks '${line}'`);
  }
  const analyze = spawnSync('systemd-analyze', ['--version'], {encoding: 'utf8'});
  if (analyze.error) {
    t.skip('systemd-analyze not installed (Debian package systemd)');
    return;
  }
  // verify checks that ExecStart's binary exists and that Documentation's man page opens: point
  // both at the extracted root (a copy of the unit, the rest unchanged).
  const copy = path.join(work, 'gemgate.service');
  fs.writeFileSync(copy, unit.replace('ExecStart=/usr/bin/gemgate', `ExecStart=${root}/usr/bin/gemgate`));
  const r = spawnSync('systemd-analyze', ['verify', copy], {
    encoding: 'utf8', env: {...process.env, MANPATH: path.join(root, 'usr/share/man')}});
  // verify exits 0 on unknown keys too, but says so: any output is a finding.
  assert.equal(r.status, 0, r.stderr);
  assert.equal((r.stdout + r.stderr).trim(), '', 'systemd-analyze verify reported problems');
});

test('the extracted binary checks the extracted config and proxies a request to the upstream', async () => {
  const bin = path.join(root, 'usr/bin/gemgate');
  const config = path.join(root, 'etc/gemgate/gemgate.yaml');
  const check = execFileSync(bin, ['--check-config', '--config', config], {encoding: 'utf8'});
  assert.match(check, /configuration OK/);
  assert.match(execFileSync(bin, ['--version'], {encoding: 'utf8'}), /^gemgate \d+\.\d+\.\d+ /);

  const fake = await startFakeGemini();
  const token = clientToken();
  const saved = process.env.GEMGATE_BIN;
  process.env.GEMGATE_BIN = bin;
  let gw;
  try {
    gw = await startGateway({env: {API_KEYS: poolKey('Valid'), ALLOWED_TOKENS: token},
                             upstream: fake, args: ['--config', config]});
    const r = await generate(gw, 'hello from the package', {token});
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(r.json.candidates?.[0]?.content?.parts?.[0]?.text, JSON.stringify(r.json));
    assert.equal(fake.stats().total, 1);
  } finally {
    if (saved === undefined) delete process.env.GEMGATE_BIN;
    else process.env.GEMGATE_BIN = saved;
    if (gw) await gw.dispose();
    await fake.close();
  }
});
