// HAProxy (Debian's 2.6, built with Lua 5.3) serving OpenAI chat clients against the stand-in
// Gemini upstream with examples/haproxy/: haproxy.cfg + gemgate_service.lua over the Lua module
// gemgate.so (capi/lua) over libgemgate.so. The official OpenAI SDK drives it: chat, a stream, a
// tool call, an invalid key failed over (calls per key counted at the stand-in), and the
// hostile cases: a bad body, a wrong client token, a dead upstream, no usable key left.
//
//   HAPROXY=/usr/sbin/haproxy GEMGATE_LUA_DIR=build/capi/lua node --test tests/embed/haproxy.test.mjs
//
// HAProxy runs in the foreground (-db) as this unprivileged process, from a temporary directory,
// on a free port, and is stopped at the end.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {poolKey, clientToken} from '../support/gemini-client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HAPROXY = process.env.HAPROXY || '/usr/sbin/haproxy';
const LUA_DIR = path.resolve(process.env.GEMGATE_LUA_DIR || path.join(root, 'build/capi/lua'));
const MODEL = 'gemini-2.5-flash';

let OpenAI;
let fake;
const running = [];

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const {port} = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitForPort(port, proc, log) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited (${proc.exitCode}):\n${log()}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not listen on ${port}:\n${log()}`);
}

// Starts HAProxy with the example configuration; returns {port, client(token), stop(), log()}.
async function startHaproxy({keys, tokens = [], upstream = `127.0.0.1:${fake.port}`}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gemgate-haproxy-'));
  const port = await freePort();
  let out = '';
  const proc = spawn(HAPROXY, ['-db', '-f', path.join(root, 'examples/haproxy/haproxy.cfg')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      GEMGATE_KEYS: keys.join(','),
      GEMGATE_CLIENT_TOKENS: tokens.join(','),
      GEMGATE_LISTEN: `127.0.0.1:${port}`,
      GEMGATE_UPSTREAM_SOCKET: path.join(dir, 'upstream.sock'),
      GEMGATE_LUA_CPATH: path.join(LUA_DIR, '?.so'),
      GEMGATE_EXAMPLE_DIR: path.join(root, 'examples/haproxy'),
      GEMINI_ADDR: upstream,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const h = {
    port,
    log: () => out,
    client: (token = tokens[0] || 'none') =>
      new OpenAI({baseURL: `http://127.0.0.1:${port}/v1`, apiKey: token, maxRetries: 0}),
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
  running.push(h);
  await waitForPort(port, proc, h.log);
  return h;
}

before(async () => {
  try {
    OpenAI = (await import('openai')).default;
  } catch (e) {
    throw new Error(`the openai SDK is not installed: run \`npm ci\` in tests/ (${e.message})`);
  }
  assert.ok(fs.existsSync(path.join(LUA_DIR, 'gemgate.so')), `no gemgate.so in ${LUA_DIR}`);
  fake = await startFakeGemini();
});
after(async () => {
  for (const h of running) await h.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

test('chat: the SDK gets a chat.completion; Gemini got the translated call with a pool key', async () => {
  const key = poolKey('Valid');
  const token = clientToken();
  const h = await startHaproxy({keys: [key], tokens: [token]});
  const r = await h.client().chat.completions.create({
    model: MODEL, messages: [{role: 'system', content: 'Be brief'}, {role: 'user', content: 'Hello HAProxy'}]});
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-./);
  assert.equal(r.model, MODEL);
  assert.equal(r.choices[0].message.content, 'echo: Hello HAProxy');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.total_tokens > 0);
  const [req] = fake.requests(1);
  assert.equal(req.path, `/v1beta/models/${MODEL}:generateContent`);
  assert.equal(req.key, key);
  assert.equal(req.keySource, 'header');
  assert.deepEqual(JSON.parse(req.body).systemInstruction.parts, [{text: 'Be brief'}]);
  assert.ok(!JSON.stringify(req.headers).includes(token), 'the client token never reaches Gemini');
});

test('stream: chunks arrive through the Lua stream translator, ending the SDK stream cleanly', async () => {
  const h = await startHaproxy({keys: [poolKey('Valid')]});
  const stream = await h.client().chat.completions.create({
    model: MODEL, stream: true, stream_options: {include_usage: true},
    messages: [{role: 'user', content: 'Stream me [[chunks=5]]'}]});
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      text += ch.delta?.content || '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(text, 'echo: Stream me #1 #2 #3 #4');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.total_tokens > 0, 'the usage chunk arrived');
  assert.ok(chunks >= 7, `role + 5 deltas + finish (+ usage), got ${chunks}`);
  const [req] = fake.requests(1);
  assert.equal(req.path, `/v1beta/models/${MODEL}:streamGenerateContent`);
  assert.equal(req.query.alt, 'sse');
});

test('tool call: a function call comes back as tool_calls, and its result goes back to Gemini', async () => {
  const h = await startHaproxy({keys: [poolKey('Valid')]});
  const tools = [{type: 'function', function: {name: 'get_weather', description: 'Weather',
    parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}}}];
  const messages = [{role: 'user', content: 'Weather in Paris? [[call=get_weather]]'}];
  const r = await h.client().chat.completions.create({model: MODEL, messages, tools});
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.doesNotThrow(() => JSON.parse(call.function.arguments));
  // The next turn without the stand-in's directive, so that Gemini answers with text.
  const r2 = await h.client().chat.completions.create({model: MODEL, tools, messages: [
    {role: 'user', content: 'Weather in Paris?'}, c.message, {role: 'tool', tool_call_id: call.id, content: '{"temp": 21}'}]});
  assert.equal(r2.choices[0].finish_reason, 'stop');
  const [req] = fake.requests(1);
  const sent = JSON.parse(req.body);
  const parts = sent.contents.flatMap((t) => t.parts);
  assert.ok(parts.some((p) => p.functionResponse?.name === 'get_weather'), 'the result reached Gemini');
  assert.equal(sent.tools[0].functionDeclarations[0].name, 'get_weather');
});

test('an invalid key is failed over and then disabled: one call on it, the rest on the good key', async () => {
  const bad = poolKey('Invalid');
  const good = poolKey('Valid');
  const h = await startHaproxy({keys: [bad, good]});
  for (let i = 0; i < 4; i++) {
    const r = await h.client().chat.completions.create({
      model: MODEL, messages: [{role: 'user', content: `hi ${i}`}]});
    assert.equal(r.choices[0].message.content, `echo: hi ${i}`);
  }
  assert.equal(fake.callsFor(bad), 1, 'the invalid key was tried once, then disabled');
  assert.equal(fake.callsFor(good), 4);
  // A stream fails over too.
  const stream = await h.client().chat.completions.create({
    model: MODEL, stream: true, messages: [{role: 'user', content: 'after'}]});
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content || '';
  assert.equal(text, 'echo: after #1 #2');
  assert.equal(fake.callsFor(bad), 1);
});

test('every key invalid: 503 no key (the client token is not at fault), never a pool key in the answer', async () => {
  const bad = poolKey('Invalid');
  const h = await startHaproxy({keys: [bad]});
  const client = h.client();
  for (let i = 0; i < 2; i++) {
    await assert.rejects(client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'x'}]}),
      (e) => {
        assert.equal(e.status, 503);
        assert.match(e.message, /no pool key can serve/);
        assert.ok(!e.message.includes(bad));
        return true;
      });
  }
  assert.equal(fake.callsFor(bad), 1, 'tried once, then disabled');
});

test('quota on every key: the SDK gets OpenAI\'s 429 with Retry-After', async () => {
  const h = await startHaproxy({keys: [poolKey('Quota')]});
  await assert.rejects(h.client().chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'x'}]}),
    (e) => {
      assert.equal(e.status, 429);
      assert.equal(e.type, 'rate_limit_error');
      assert.equal(e.headers['retry-after'] ?? e.headers.get?.('retry-after'), '30');
      return true;
    });
});

test('hostile clients: a bad body gets an OpenAI 400 naming the field; a wrong token a 401; other paths 404', async () => {
  const token = clientToken();
  const h = await startHaproxy({keys: [poolKey('Valid')], tokens: [token]});
  await assert.rejects(h.client().chat.completions.create({model: MODEL, messages: [{role: 'wizard', content: 'x'}]}),
    (e) => { assert.equal(e.status, 400); assert.equal(e.param, 'messages[0].role'); return true; });
  await assert.rejects(h.client('gg-wrong-token').chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'x'}]}),
    (e) => { assert.equal(e.status, 401); return true; });
  for (const body of ['not json', '[[[[[[', '{"model":"../../x","messages":[{"role":"user","content":"x"}]}']) {
    const res = await fetch(`http://127.0.0.1:${h.port}/v1/chat/completions`, {
      method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, body});
    assert.equal(res.status, 400, body);
    assert.equal(typeof (await res.json()).error.message, 'string');
  }
  const res = await fetch(`http://127.0.0.1:${h.port}/v1/embeddings`, {method: 'POST', body: '{}',
    headers: {authorization: `Bearer ${token}`}});
  assert.equal(res.status, 404);
  assert.equal(fake.stats().total, 0, 'nothing reached Gemini');
});

test('a dead upstream: an OpenAI 502, and the key is not blamed (the next request gets 502 again, not "no key")', async () => {
  const key = poolKey('Valid');
  const h = await startHaproxy({keys: [key], upstream: `127.0.0.1:${await freePort()}`});
  for (let i = 0; i < 2; i++) {
    await assert.rejects(h.client().chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'x'}]}),
      (e) => { assert.equal(e.status, 502); assert.ok(!e.message.includes(key)); return true; });
  }
});

test('the stream is forwarded as it arrives: chunks reach the client while Gemini is still sending', async () => {
  const h = await startHaproxy({keys: [poolKey('Valid')]});
  // The stand-in sends two chunks, then holds the connection open without ending it: a proxy
  // that buffered the answer would deliver nothing, and this loop would never get to break.
  const stream = await h.client().chat.completions.create({
    model: MODEL, stream: true, messages: [{role: 'user', content: 'Hold [[chunks=6 hang_after=2]]'}]});
  let text = '';
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content || '';
    if (text.includes('#1')) break;  // aborts the request
  }
  assert.equal(text, 'echo: Hold #1');
});

test('Gemini resets mid-stream: the SDK gets the text so far, then an error event (no [DONE])', async () => {
  const h = await startHaproxy({keys: [poolKey('Valid')]});
  const stream = await h.client().chat.completions.create({
    model: MODEL, stream: true, messages: [{role: 'user', content: 'Cut [[chunks=5 reset_after=2]]'}]});
  let text = '';
  await assert.rejects((async () => {
    for await (const c of stream) text += c.choices[0]?.delta?.content || '';
  })(), (e) => { assert.match(String(e.message), /upstream stream broke/); return true; });
  assert.equal(text, 'echo: Cut #1');
});

test('answers larger than HAProxy\'s default 16 kB buffers arrive whole: a 300 kB reply, stream events of 100 kB, a 200 kB request', async () => {
  const h = await startHaproxy({keys: [poolKey('Valid')]});
  const r = await h.client().chat.completions.create({
    model: MODEL, messages: [{role: 'user', content: 'Big [[pad=300000]]'}]});
  assert.ok(r.choices[0].message.content.length >= 300000, `got ${r.choices[0].message.content.length} characters`);
  const stream = await h.client().chat.completions.create({
    model: MODEL, stream: true, messages: [{role: 'user', content: 'Big [[chunks=3 pad=100000]]'}]});
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content || '';
  assert.ok(text.length >= 300000, `got ${text.length} characters`);
  assert.ok(text.startsWith('echo: Big'));
  // A large request body too (a long conversation).
  const long = 'x'.repeat(200000);
  const r2 = await h.client().chat.completions.create({model: MODEL, messages: [{role: 'user', content: long}]});
  assert.equal(r2.choices[0].message.content, `echo: ${long}`);
});
