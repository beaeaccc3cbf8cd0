// A Gemini event whose text holds a lone surrogate escape (\udc00: valid JSON grammar, no Unicode
// character) through the translated fronts. The client's stream must stay valid UTF-8 — the
// escape kept as an escape, replaced by U+FFFD, or the event refused with a clear error — as the
// native passthrough does (it forwards the escape as sent). Upstream: the byte-exact raw server.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startRawUpstream, chunked, head} from '../support/raw-upstream.mjs';
import {startStack} from '../support/stack.mjs';

let up, s;
before(async () => {
  up = await startRawUpstream();
  s = await startStack({fake: {url: up.url, reset() {}, close() {}}});
});
after(async () => {
  await s?.close();
  await up.close();
});

const FRONTS = {
  openai: ['/v1/chat/completions', {model: 'gemini-2.5-flash', stream: true, messages: [{role: 'user', content: 'x'}]}],
  anthropic: ['/v1/messages', {model: 'gemini-2.5-flash', stream: true, max_tokens: 10, messages: [{role: 'user', content: 'x'}]}],
  responses: ['/v1/responses', {model: 'gemini-2.5-flash', stream: true, input: 'x'}],
  native: ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {contents: [{role: 'user', parts: [{text: 'x'}]}]}],
};

for (const lone of ['x\\udc00y', 'x\\udfffy', '\\ude00', 'a\\ud83d\\ude00\\ude00b']) {
  test(`a lone low surrogate escape ("${lone}") reaches no client as invalid UTF-8`, async () => {
    const events = [`{"candidates":[{"content":{"parts":[{"text":"first "}],"role":"model"}}]}`,
                    `{"candidates":[{"content":{"parts":[{"text":"${lone}"}],"role":"model"}}]}`,
                    `{"candidates":[{"content":{"parts":[{"text":" end"}],"role":"model"},"finishReason":"STOP"}]}`];
    const body = Buffer.from(events.map((e) => `data: ${e}\r\n\r\n`).join(''));
    up.script = () => ({pieces: [Buffer.concat([head(200, [['content-type', 'text/event-stream'],
                                                           ['transfer-encoding', 'chunked']]), chunked(body)])]});
    const bad = [];
    for (const [front, [path, req]] of Object.entries(FRONTS)) {
      const res = await fetch(`${s.gw.url}${path}`, {
        method: 'POST', body: JSON.stringify(req),
        headers: {authorization: `Bearer ${s.token}`, 'x-api-key': s.token, 'x-goog-api-key': s.token,
                  'anthropic-version': '2023-06-01', 'content-type': 'application/json'},
        signal: AbortSignal.timeout(30000)});
      const bytes = Buffer.from(await res.arrayBuffer());
      try {
        new TextDecoder('utf-8', {fatal: true}).decode(bytes);
      } catch {
        const at = bytes.indexOf(Buffer.from([0xed]));
        bad.push(`${front} (${res.status}): invalid UTF-8 at byte ${at}: ${bytes.subarray(Math.max(0, at - 8), at + 6).toString('hex')}`);
      }
    }
    assert.deepEqual(bad, [], 'every front\'s stream is valid UTF-8');
  });
}
