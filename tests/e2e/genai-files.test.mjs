// Uploads end to end with @google/genai's `files.upload`: the SDK starts a resumable upload at
// the gateway, sends its 8 MiB chunks to the opaque upload URL the gateway answered with, and
// finalizes, with 3 keys in the pool. The stand-in upstream owns each session and file by key
// (tests/support/fake-gemini-files.mjs), so a chunk on another key would fail the upload there:
// every call of one upload must land on the key that served `start`. Needs `npm ci` in tests/.
// (files.get/list/delete and generation citing the file need the affinity filter:
// genai-files-affinity.test.mjs.)

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey} from '../support/gateway.mjs';

const MiB = 1024 * 1024;
let GoogleGenAI, fake, s, dir;
before(async () => {
  ({GoogleGenAI} = await import('@google/genai'));
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')]});
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-e2e-files-'));
});
after(async () => {
  await s?.close();
  await fake?.close();
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
});

function client(baseUrl = s.gw.url, httpOptions = {}) {
  return new GoogleGenAI({apiKey: s.token, httpOptions: {baseUrl, ...httpOptions}});
}

/** Per-key upstream call counts since `before` (an array in s.keys order). */
function callsSince(before) {
  return s.keys.map((k, i) => fake.callsFor(k) - before[i]);
}

function calls() {
  return s.keys.map((k) => fake.callsFor(k));
}

/** A file of `size` pseudo-random bytes on disk; returns its path and SHA-256 (base64). */
function bigFile(name, size) {
  const bytes = crypto.randomBytes(size);
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return {path: p, sha256: crypto.createHash('sha256').update(bytes).digest('base64'), bytes};
}

test('files.upload of a 40 MiB file from a path: 6 calls, all on the key that served start', async () => {
  const f = bigFile('forty.bin', 40 * MiB);
  const before = calls();
  const file = await client().files.upload({
    file: f.path, config: {mimeType: 'application/octet-stream', displayName: 'forty'}});
  assert.equal(file.sizeBytes, String(40 * MiB));
  assert.equal(file.sha256Hash, f.sha256, 'the bytes arrived intact, in order');
  assert.equal(file.displayName, 'forty');
  assert.equal(file.state, 'ACTIVE');
  assert.match(file.name, /^files\//);
  const used = callsSince(before);
  // start + 5 chunks of 8 MiB (the last with finalize), on one key.
  assert.deepEqual(used.filter((n) => n > 0), [6], `calls per key: ${used}`);
  const uploads = fake.requests(6);
  assert.ok(uploads.every((r) => r.path === '/upload/v1beta/files'), 'every call went to Google\'s upload path');
  assert.ok(uploads.slice(1).every((r) => r.query.upload_id === uploads[1].query.upload_id),
            'the chunks named Google\'s session');
  assert.ok(uploads.every((r) => !JSON.stringify(r.headers).includes(s.token)), 'no client token upstream');
});

test('files.upload of a Blob, three times: each upload on one key, the uploads spread over the pool', async () => {
  const owners = [];
  for (let i = 0; i < 3; i++) {
    const bytes = crypto.randomBytes(9 * MiB + i);
    const before = calls();
    const file = await client().files.upload({
      file: new Blob([bytes], {type: 'text/plain'}), config: {displayName: `blob-${i}`}});
    assert.equal(file.sizeBytes, String(bytes.length));
    assert.equal(file.mimeType, 'text/plain');
    assert.equal(file.sha256Hash, crypto.createHash('sha256').update(bytes).digest('base64'));
    const used = callsSince(before);
    assert.deepEqual(used.filter((n) => n > 0), [3], `start + 2 chunks on one key: ${used}`);
    owners.push(used.findIndex((n) => n > 0));
  }
  assert.deepEqual(owners.slice().sort(), [0, 1, 2], 'round robin chose a new key for each start');
});

test('files.upload through the /gemini base URL', async () => {
  const bytes = Buffer.from('a small document for the gemini prefix');
  const file = await client(`${s.gw.url}/gemini`).files.upload({
    file: new Blob([bytes], {type: 'text/plain'})});
  assert.equal(file.sizeBytes, String(bytes.length));
  const last = fake.requests(2);
  assert.ok(last.every((r) => r.path === '/upload/v1beta/files'));
});

test('a chunk cut by the upstream: the SDK (with retryOptions) sends it again, the upload completes', async () => {
  const bytes = crypto.randomBytes(17 * MiB);  // 3 chunks; the second is cut once
  const before = calls();
  // The gateway answers the cut chunk 502/503; the SDK's own retry sends it again to the same
  // upload URL, which the gateway pins to the same key and Google's same session.
  const ai = client(s.gw.url, {retryOptions: {attempts: 4, initialDelay: 0.2, maxDelay: 2}});
  const file = await ai.files.upload({
    file: new Blob([bytes], {type: 'text/plain'}), config: {displayName: 'cut [[reset_chunk=1]]'}});
  assert.equal(file.sizeBytes, String(bytes.length));
  assert.equal(file.sha256Hash, crypto.createHash('sha256').update(bytes).digest('base64'));
  const used = callsSince(before);
  // start + 3 chunks + the one sent again, all on the session's key.
  assert.deepEqual(used.filter((n) => n > 0), [5], `calls per key: ${used}`);
});
