// "Streaming everywhere it streams" (issue 11): any successful upstream answer with
// content-type text/event-stream is forwarded as a stream, with backpressure, on any native
// route and method — not only :streamGenerateContent. The scripted upstream holds back the rest
// of its stream until the client has read the first event, so a buffering gateway cannot pass.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startGateway, poolKey, clientToken, sseEvents} from '../support/gateway.mjs';
import {startScriptedUpstream, drainAndAnswer} from '../support/scripted-upstream.mjs';

const TOKEN = clientToken('sse');
let up, gw;
before(async () => {
  up = await startScriptedUpstream();
  gw = await startGateway({env: {API_KEYS: poolKey('Sse'), ALLOWED_TOKENS: TOKEN}, upstream: up.url});
});
after(async () => {
  await gw?.dispose();
  await up?.close();
});

// An SSE answer whose events after the first wait for `release` (a promise the test resolves
// once the client saw the first event).
function heldStream(events, release, {contentType = 'text/event-stream; charset=utf-8'} = {}) {
  return (req, res, info) => {
    req.resume();
    req.on('end', async () => {
      info.complete = true;
      res.writeHead(200, {'content-type': contentType});
      res.write(`data: ${JSON.stringify(events[0])}\n\n`);
      await release;
      for (const e of events.slice(1)) res.write(`data: ${JSON.stringify(e)}\n\n`);
      res.end();
    });
  };
}

async function streamThrough(method, path, body) {
  let release;
  const released = new Promise((r) => { release = r; });
  // A buffering gateway would wait for the whole answer, which waits for the client: after a
  // while the upstream sends the rest anyway, and the test sees it came too late.
  let heldBack = true;
  const unstick = setTimeout(() => { heldBack = false; release(); }, 5000);
  const events = [{event_type: 'interaction.start', n: 0}, {event_type: 'content.delta', n: 1},
                  {event_type: 'interaction.complete', n: 2}];
  up.script = heldStream(events, released);
  const res = await fetch(`${gw.url}${path}`, {
    method, headers: {'x-goog-api-key': TOKEN, 'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body)});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  let firstWhileHeld = false;
  const got = await sseEvents(res, {onEvent: (e) => {
    if (e.json?.n === 0) {
      firstWhileHeld = heldBack;
      release();
    }
  }});
  clearTimeout(unstick);
  assert.ok(firstWhileHeld, 'the first event reached the client while the upstream held the rest');
  return got;
}

test('POST /v1beta/interactions with stream: true is forwarded as a stream', async () => {
  const got = await streamThrough('POST', '/v1beta/interactions', {model: 'gemini-2.5-flash', input: 'hi', stream: true});
  assert.ok(got.complete, 'the stream ended cleanly');
  assert.deepEqual(got.events.map((e) => e.json.n), [0, 1, 2]);
});

test('GET of any native path answering text/event-stream streams too', async () => {
  const got = await streamThrough('GET', '/v1beta/interactions/abc?stream=true');
  assert.ok(got.complete);
  assert.deepEqual(got.events.map((e) => e.json.n), [0, 1, 2]);
});

test('a JSON answer on the same path stays buffered whole (content-length, no chunking)', async () => {
  up.script = drainAndAnswer();
  const res = await fetch(`${gw.url}/v1beta/interactions`, {
    method: 'POST', headers: {'x-goog-api-key': TOKEN, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', input: 'hi'})});
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('content-length'), 'a whole body with its length');
  assert.equal((await res.json()).bytes > 0, true);
});
