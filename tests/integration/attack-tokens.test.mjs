// Round 6's SHA-NI token hash and per-thread getrandom block as a client sees them: client tokens
// of every length the admin API takes (8..256) authenticate through all three places a token may
// come from, the same token with its last byte changed is refused, presented tokens of every
// length 0..300 that were never created are refused without harm, admin tokens across SHA-256's
// block edges work; and ids (request ids, OpenAI completion ids, Anthropic message ids) are
// unique over 100 000 requests across two workers (attack-ids.test.mjs).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {call, generate} from '../support/gateway.mjs';
import {adminStack, api, ok, createToken, registerSecret} from './admin-lib.mjs';

let fake;
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });

const PRINTABLE = '!#$%&\'()*+-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~';

/** A token of `n` printable characters (no space, no comma, no quote that a header would mind). */
function tokenOf(n, seed) {
  const bytes = crypto.createHash('sha512').update(`${seed}/${n}`).digest();
  let out = '';
  for (let i = 0; out.length < n; i++) {
    const b = i < bytes.length ? bytes[i] : crypto.randomInt(256);
    out += PRINTABLE[b % PRINTABLE.length];
  }
  return out;
}

/** The same token with its last byte changed (to another printable one). */
function lastByteChanged(tok) {
  const last = tok.at(-1);
  return tok.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

const VIAS = ['header', 'query', 'bearer'];

test('client tokens of every length 8..256 authenticate in every place; one last byte off is refused', async (t) => {
  const s = await adminStack(t, fake);
  const made = [];
  for (let n = 8; n <= 256; n++) {
    const tok = tokenOf(n, 'client');
    const r = await createToken(s, {label: `len-${n}`, token: tok});
    assert.ok(r.id, `token of ${n} created`);
    made.push(tok);
  }
  for (const [i, tok] of made.entries()) {
    const n = tok.length, via = VIAS[i % 3];
    const good = await generate(s.gw, `len ${n}`, {token: tok, via});
    assert.equal(good.status, 200, `a token of ${n} characters (${via}) authenticates: ${good.text.slice(0, 120)}`);
    const bad = await generate(s.gw, `bad ${n}`, {token: lastByteChanged(tok), via});
    assert.equal(bad.status, 401, `a token of ${n} characters with its last byte changed (${via}) is refused`);
    const shorter = await generate(s.gw, `short ${n}`, {token: tok.slice(0, -1), via});
    assert.equal(shorter.status, 401, `a token of ${n} without its last byte (${via}) is refused`);
  }
});

test('presented tokens of every length 0..300 that were never created are refused, the gateway unharmed', async (t) => {
  const s = await adminStack(t, fake);
  for (let n = 0; n <= 300; n++) {
    const tok = tokenOf(n, 'stranger');
    const via = VIAS[n % 3];
    const r = await call(s.gw, '/v1beta/models/gemini-2.5-flash:generateContent',
                         {body: {contents: [{role: 'user', parts: [{text: 'x'}]}]}, token: tok || undefined,
                          headers: n === 0 ? {'x-goog-api-key': ''} : {}, via});
    assert.ok(r.status === 401 || r.status === 403, `length ${n} (${via}): refused, got ${r.status}`);
  }
  const r = await generate(s.gw, 'after strangers', {token: s.token});
  assert.equal(r.status, 200, 'the real token still works');
});

test('admin tokens across SHA-256 block edges (16..300 characters) open the admin API; one byte off does not', async (t) => {
  for (const n of [16, 55, 56, 63, 64, 65, 119, 120, 128, 200, 300]) {
    const adminToken = tokenOf(n, 'admin').replace(/[,'"\\$`]/g, 'a');
    const s = await adminStack(t, fake, {adminToken});
    ok(await api(s, 'GET', '/admin/api/keys'));
    const bad = await api(s, 'GET', '/admin/api/keys', {token: lastByteChanged(adminToken)});
    assert.equal(bad.status, 401, `an admin token of ${n} with its last byte changed is refused`);
    await s.close();
  }
});

