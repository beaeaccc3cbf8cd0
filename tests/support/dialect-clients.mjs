// Callers of the gateway's translated fronts for the hostile suites (tests/integration/
// hostile-translators.test.mjs, hostile-chain.test.mjs): an OpenAI chat (whole or raw bytes) and
// streamed chat, an Anthropic Messages stream and a Responses API stream, each reduced to its
// text, how it ended and its error events; and a config with one worker, so that requests share
// one thread's translator scratch arena. Not a test file itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import {DEFAULT_CONFIG, buildConfig, sseEvents} from './gateway.mjs';

/** POST /v1/chat/completions; `body` an object or raw bytes. Resolves to {status, text, json}. */
export async function chat(s, body, {token = s.token} = {}) {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
    body: Buffer.isBuffer(body) ? body : JSON.stringify(body), signal: AbortSignal.timeout(30000)});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, text, json};
}

/** A streamed chat; resolves to {status, content (the deltas joined), chunks, done, errors}. */
export async function chatStream(s, content) {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', stream: true, messages: [{role: 'user', content}]}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  const chunks = out.events.filter((e) => e.json?.choices);
  return {
    status: 200,
    complete: out.complete,
    content: chunks.map((e) => e.json.choices[0]?.delta?.content ?? '').join(''),
    finish: chunks.map((e) => e.json.choices[0]?.finish_reason).filter(Boolean),
    errors: out.events.filter((e) => e.json?.error),
    done: out.events.some((e) => e.data === '[DONE]'),
    raw: out.raw,
  };
}

/** The assistant's text of a whole chat answer (parsed), or undefined. */
export function messageOf(r) {
  return r.json?.choices?.[0]?.message?.content;
}

/** A streamed Anthropic Messages call; resolves to {status, content, done, errors}. */
export async function anthropicStream(s, content) {
  const res = await fetch(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: {'x-api-key': s.token, 'anthropic-version': '2023-06-01',
                              'content-type': 'application/json'},
    body: JSON.stringify({model: 'claude-3-5-haiku-latest', max_tokens: 100, stream: true,
                          messages: [{role: 'user', content}]}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  return {
    status: 200,
    content: out.events.filter((e) => e.json?.type === 'content_block_delta')
                 .map((e) => e.json.delta?.text ?? '').join(''),
    done: out.events.some((e) => e.json?.type === 'message_stop'),
    errors: out.events.filter((e) => e.json?.type === 'error' || e.event === 'error'),
  };
}

/** A streamed Responses API call; resolves to {status, content, done, errors}. */
export async function responsesStream(s, input) {
  const res = await fetch(`${s.gw.url}/v1/responses`, {
    method: 'POST', headers: {authorization: `Bearer ${s.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({model: 'gemini-2.5-flash', stream: true, store: false, input}),
    signal: AbortSignal.timeout(60000)});
  if (res.status !== 200) return {status: res.status, text: await res.text()};
  const out = await sseEvents(res);
  return {
    status: 200,
    content: out.events.filter((e) => e.json?.type === 'response.output_text.delta')
                 .map((e) => e.json.delta ?? '').join(''),
    done: out.events.some((e) => e.json?.type === 'response.completed'),
    errors: out.events.filter((e) => e.json?.type === 'error' || e.json?.type === 'response.failed'),
  };
}

/** conf/gemgate.yaml with one worker, so every request shares one thread's scratch arena. */
export function oneWorker() {
  const text = fs.readFileSync(DEFAULT_CONFIG, 'utf8');
  assert.match(text, /^workers: \S+/m);
  return buildConfig({configYaml: text.replace(/^workers: \S+/m, 'workers: 1')});
}
