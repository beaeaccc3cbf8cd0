// A full disk under round 6's multi-row log INSERT (SQLite only: the file is the point). The
// database lives on a tmpfs of a few MB, which is a real full disk (ENOSPC, SQLITE_FULL), not a
// simulation. While it is full the gateway must keep serving, say in its log that rows wait (or
// how many were lost), and once space is back every row queued meanwhile must land, complete and
// in order. Needs root (mount); without it each case is skipped with the reason.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {genBody, rawRequest, eventually} from '../support/gateway.mjs';
import {adminStack, api, ok} from './admin-lib.mjs';

let fake, mountDir = null, whyNot = '';
before(async () => {
  fake = await startFakeGemini();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-fulldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir], {stdio: 'pipe'});
    mountDir = dir;
  } catch (e) {
    whyNot = `cannot mount a tmpfs (${String(e.stderr || e.message).trim()}); needs root`;
    fs.rmSync(dir, {recursive: true, force: true});
  }
});
after(async () => {
  await fake.close();
  if (mountDir) {
    execFileSync('umount', [mountDir]);
    fs.rmSync(mountDir, {recursive: true, force: true});
  }
});

/** Fills the file system holding `dir` until ENOSPC; returns the filler's path. */
function fill(dir) {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  }
  // Then byte by byte what is left of the last block.
  try {
    for (;;) fs.writeSync(fd, block, 0, 512);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  }
  fs.closeSync(fd);
  return filler;
}

function generateBytes(token, i) {
  const body = JSON.stringify(genBody(`disk ${i}`));
  return `POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: gw\r\n` +
         `x-goog-api-key: ${token}\r\ncontent-type: application/json\r\n` +
         `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** `n` generate calls pipelined on one connection; returns their x-request-ids in order. */
async function burst(s, from, n) {
  const r = await rawRequest(s.gw.port, Array.from({length: n}, (_, i) => generateBytes(s.token, from + i)).join(''),
                             {responses: n, timeoutMs: 60000});
  assert.equal(r.responses.length, n, `all ${n} answered (${r.responses.length})`);
  for (const res of r.responses) assert.equal(res.status, 200, `served while the disk is full: ${res.text.slice(0, 200)}`);
  return r.responses.map((res) => res.headers['x-request-id']);
}

async function storedIds(s) {
  const ids = [];
  for (let page = 1; ; page++) {
    const j = ok(await api(s, 'GET', `/admin/api/logs?kind=request&per_page=100&page=${page}`));
    ids.push(...j.items);
    if (j.items.length === 0 || ids.length >= j.total) break;
  }
  return ids.sort((a, b) => a.id - b.id).map((r) => r.request_id);
}

test('a full disk during log batches: serving goes on, the log says rows wait, and every row lands once space is back', async (t) => {
  if (!mountDir) return t.skip(whyNot);
  const dbDir = fs.mkdtempSync(path.join(mountDir, 'db-'));
  const s = await adminStack(t, fake, {env: {DATABASE_URL: `file:${path.join(dbDir, 'gemgate.db')}`}});
  const sent = await burst(s, 0, 20);
  assert.deepEqual(await storedIds(s), sent, 'the first rows are stored');
  const filler = fill(mountDir);
  let freed = false;
  t.after(() => { if (!freed) fs.rmSync(filler, {force: true}); });
  // The first batch after the fill already meets SQLITE_FULL (the WAL must grow).
  // Six connections at once, each its own order.
  const t0 = Date.now();
  const conns = await Promise.all(Array.from({length: 6}, (_, c) => burst(s, 100 + c * 100, 60)));
  for (const ids of conns) sent.push(...ids);
  await eventually(() => /storage: writing request log rows failed, will retry \(\d+ rows waiting\)/.test(s.gw.logs()) ||
                         /storage: lost \d+ request log rows/.test(s.gw.logs()),
                   {timeoutMs: 15000, what: 'the log to say the rows wait or are lost'});
  const lost = s.gw.logs().match(/storage: lost (\d+) request log rows/);
  t.diagnostic((s.gw.logs().match(/.*storage: (writing request log rows failed|lost).*/) || [''])[0].slice(0, 300));
  // Still serving, with the disk full; the admin API still reads, and a write answers at once.
  ok(await api(s, 'GET', '/admin/api/logs?kind=request&per_page=1'));
  const write = await api(s, 'POST', '/admin/api/tokens', {body: {label: 'while-full'}, timeoutMs: 10000,
                                                          allow: [/* a created token is shown once */]});
  assert.ok([200, 201, 503].includes(write.status), `an admin write while full: ${write.status} ${write.text.slice(0, 200)}`);
  sent.push(...await burst(s, 5000, 10));
  t.diagnostic(`served the bursts in ${Date.now() - t0} ms`);
  fs.rmSync(filler);
  freed = true;
  const t1 = Date.now();
  // The write is retried every second; once it succeeds every row queued is there, in order.
  const stored = await eventually(async () => {
    const ids = await storedIds(s);
    return ids.length >= sent.length - (lost ? Number(lost[1]) : 0) ? ids : null;
  }, {timeoutMs: 30000, intervalMs: 500, what: 'the rows to land once space is back'});
  t.diagnostic(`landed in ${Date.now() - t1} ms`);
  if (lost) {
    assert.fail(`rows were lost to a retriable error: "${lost[0]}" (stored ${stored.length} of ${sent.length})`);
  }
  assert.equal(stored.length, sent.length, 'no row twice');
  assert.deepEqual([...stored].sort(), [...sent].sort(), 'every row landed');
  // Each connection's rows in the order it was served (the first burst and the last alike).
  const at = new Map(stored.map((id, i) => [id, i]));
  for (const ids of [sent.slice(0, 20), ...conns, sent.slice(-10)]) {
    for (let i = 1; i < ids.length; i++) assert.ok(at.get(ids[i - 1]) < at.get(ids[i]), 'rows in the order served');
  }
  // And the gateway is fine afterwards.
  const more = await burst(s, 9000, 5);
  await eventually(async () => (await storedIds(s)).length === sent.length + more.length, {what: 'later rows'});
});

test('stopped while the disk is full: the exit is clean and the log says exactly how many rows were lost', async (t) => {
  if (!mountDir) return t.skip(whyNot);
  const dbDir = fs.mkdtempSync(path.join(mountDir, 'db-'));
  const s = await adminStack(t, fake, {env: {DATABASE_URL: `file:${path.join(dbDir, 'gemgate.db')}`}});
  const first = await burst(s, 0, 10);
  assert.deepEqual(await storedIds(s), first);
  const filler = fill(mountDir);
  let freed = false;
  t.after(() => { if (!freed) fs.rmSync(filler, {force: true}); });
  const waiting = await burst(s, 100, 40);
  const stop = await s.gw.stop({timeoutMs: 20000});
  assert.equal(stop.timedOut, false, 'the stop does not hang on the full disk');
  assert.equal(stop.code, 0, `exit status: ${JSON.stringify(stop)}`);
  const logs = s.gw.logs();
  const lost = [...logs.matchAll(/storage: lost (\d+) request log rows/g)].reduce((n, m) => n + Number(m[1]), 0);
  fs.rmSync(filler);
  freed = true;
  await s.gw.restart();
  const stored = await storedIds(s);
  const missing = waiting.filter((id) => !stored.includes(id));
  t.diagnostic(`stored ${stored.length}, missing ${missing.length}, the log says lost ${lost}`);
  assert.deepEqual(stored.slice(0, first.length), first, 'the rows written before the disk filled are kept');
  assert.equal(lost, missing.length, `the log counts the lost rows exactly: ${(logs.match(/.*storage: lost.*/g) || []).join(' | ').slice(0, 400)}`);
  assert.ok(missing.length === 0 || /disk is full/.test(logs), 'and says why');
});
