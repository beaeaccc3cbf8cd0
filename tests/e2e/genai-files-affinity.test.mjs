// Files through the gateway after the upload, with @google/genai and 3 keys in the pool: the
// calls that name an uploaded file (files.get/delete, generateContent citing its fileUri) must go
// to the key that owns it, and files.list shows only the calling token's files. This needs the
// affinity filter (the resource map, issue 11) in the chains: until it is merged the suite FAILS
// (the fake answers a file named with another key 403, and round robin picks any key), so it is
// skipped while conf/gemgate.yaml has no `affinity` filter; GEMGATE_RUN_AFFINITY=1 runs it anyway.
// Needs `npm ci` in tests/.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey, clientToken, DEFAULT_CONFIG} from '../support/gateway.mjs';
import fs from 'node:fs';

const affinity = /^\s*- affinity:/m.test(fs.readFileSync(DEFAULT_CONFIG, 'utf8')) ||
                 process.env.GEMGATE_RUN_AFFINITY === '1';
const skip = affinity ? false : 'needs the affinity filter in conf/gemgate.yaml (issue 11, not merged yet)';

const MiB = 1024 * 1024;
let GoogleGenAI, createPartFromUri, fake, s;
before(async () => {
  ({GoogleGenAI, createPartFromUri} = await import('@google/genai'));
  fake = await startFakeGemini();
  s = await startStack({fake, keys: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')],
                        tokens: [clientToken('alice'), clientToken('bob')]});
});
after(async () => {
  await s?.close();
  await fake?.close();
});

function client(token = s.tokens[0]) {
  return new GoogleGenAI({apiKey: token, httpOptions: {baseUrl: s.gw.url}});
}

function calls() {
  return s.keys.map((k) => fake.callsFor(k));
}

async function upload(token, size, displayName) {
  const before = calls();
  const file = await client(token).files.upload({
    file: new Blob([crypto.randomBytes(size)], {type: 'text/plain'}), config: {displayName}});
  const owner = calls().findIndex((n, i) => n > before[i]);
  return {file, owner};
}

test('a 40 MiB upload cited by generateContent 20 times: all 200, all on the owning key', {skip}, async () => {
  const {file, owner} = await upload(s.tokens[0], 40 * MiB, 'forty');
  assert.equal(file.sizeBytes, String(40 * MiB));
  const before = calls();
  for (let i = 0; i < 20; i++) {
    const r = await client().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [{role: 'user', parts: [createPartFromUri(file.uri, file.mimeType), {text: `q${i}`}]}],
    });
    assert.match(r.text, /^echo: /);
  }
  const used = calls().map((n, i) => n - before[i]);
  assert.equal(used[owner], 20, `every call on the owner (key ${owner}): ${used}`);
  assert.deepEqual(used.filter((n, i) => i !== owner), [0, 0], 'no call on another key');
});

test('files.get and files.delete go to the owning key; files.list shows only the token\'s files', {skip}, async () => {
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push(await upload(s.tokens[0], 1024 + i, `alice-${i}`));
  const theirs = await upload(s.tokens[1], 2048, 'bob-0');
  assert.deepEqual(mine.map((m) => m.owner).concat(theirs.owner).length, 4);

  for (const {file, owner} of mine) {
    const before = calls();
    const got = await client().files.get({name: file.name});
    assert.equal(got.name, file.name);
    assert.equal(got.sizeBytes, file.sizeBytes);
    const used = calls().map((n, i) => n - before[i]);
    assert.deepEqual(used, s.keys.map((_, i) => (i === owner ? 1 : 0)), `get on the owner only: ${used}`);
  }

  const listed = [];
  for await (const f of await client().files.list({config: {pageSize: 2}})) listed.push(f.name);
  const expected = [...mine.map((m) => m.file.name)];
  for (const f of listed) assert.ok(!f.includes(theirs.file.name), 'bob\'s file is not listed for alice');
  for (const n of expected) assert.ok(listed.includes(n), `alice sees ${n}`);

  await assert.rejects(client().files.get({name: theirs.file.name}), (e) => e.status === 404 || e.status === 403,
                       'alice cannot read bob\'s file');

  const {file, owner} = mine[0];
  const before = calls();
  await client().files.delete({name: file.name});
  const used = calls().map((n, i) => n - before[i]);
  assert.deepEqual(used, s.keys.map((_, i) => (i === owner ? 1 : 0)), `delete on the owner only: ${used}`);
  await assert.rejects(client().files.get({name: file.name}));
});
