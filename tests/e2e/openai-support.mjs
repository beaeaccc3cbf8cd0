// Shared by the openai-*.test.mjs suites: the official OpenAI Node SDK (npm `openai`, pinned in
// tests/package.json) pointed at gemgate, plus helpers to see what the stand-in Gemini upstream
// received for one call. Not a test file itself (the e2e CMake glob only picks *.test.mjs).
//
//   const s = await openaiStack();                  // fake upstream + gateway, 2 valid pool keys
//   const c = s.client();                           // OpenAI SDK on <gateway>/v1, no SDK retries
//   const m = s.mark();                             // remember the upstream request counter
//   await c.chat.completions.create({...});
//   const [rec] = s.upstreamSince(m);               // exactly what Gemini received, checked for
//                                                   // the pool key / client token swap

import assert from 'node:assert/strict';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {poolKey, sseEvents} from '../support/gateway.mjs';

export {poolKey, sseEvents};

let OpenAIClass;
/** Loads the SDK once, failing with the npm instruction when it is not installed. */
export async function loadOpenAI() {
  if (!OpenAIClass) {
    try {
      OpenAIClass = (await import('openai')).default;
    } catch (e) {
      throw new Error(`the openai SDK is not installed: run \`npm ci\` in tests/ (${e.message})`);
    }
  }
  return OpenAIClass;
}

/** The three route prefixes that serve the OpenAI API. */
export const PREFIXES = ['/openai/v1', '/v1', '/hf/v1'];

/**
 * A fetch that records every exchange the SDK makes: {url, method, requestBody, status,
 * headers, raw} where `raw` is a promise of the whole response text (read from a clone, so the
 * SDK still consumes the original). `f.log` holds the entries.
 */
export function recordingFetch() {
  const log = [];
  const f = async (url, init = {}) => {
    const res = await fetch(url, init);
    const entry = {url: String(url), method: init.method, requestBody: init.body,
                   status: res.status, headers: res.headers};
    entry.raw = res.clone().text().catch((e) => `<<body read failed: ${e.message}>>`);
    log.push(entry);
    return res;
  };
  f.log = log;
  return f;
}

/**
 * Starts (or reuses `fake`) the stand-in upstream and a gateway. opts: fake, keys (default two
 * valid pool keys), settings, env. Returns the stack of support/stack.mjs plus:
 *   client({prefix, apiKey, fetch, maxRetries})  an OpenAI SDK client (maxRetries 0 by default,
 *                                                so every upstream answer is seen as is)
 *   mark() / upstreamSince(mark)                 the upstream requests made after mark(), each
 *                                                checked: pool key in x-goog-api-key, no client
 *                                                token or Authorization header anywhere
 *   url(path)                                    gateway URL
 */
export async function openaiStack(opts = {}) {
  const OpenAI = await loadOpenAI();
  const ownFake = !opts.fake;
  const fake = opts.fake || await startFakeGemini();
  let s;
  try {
    s = await startStack({fake, keys: opts.keys || [poolKey('Valid'), poolKey('Valid')],
                          settings: opts.settings, env: opts.env});
  } catch (e) {
    if (ownFake) await fake.close();
    throw e;
  }
  const close = s.close;
  s.close = async () => {
    await close();
    if (ownFake) await fake.close();
  };
  s.url = (path) => `${s.gw.url}${path}`;
  s.client = ({prefix = '/v1', apiKey = s.token, fetch, maxRetries = 0, timeout = 20000} = {}) =>
    new OpenAI({apiKey, baseURL: s.url(prefix), maxRetries, timeout, ...(fetch ? {fetch} : {})});
  s.mark = () => fake.requests().at(-1)?.id ?? 0;
  s.upstreamSince = (mark) => {
    const recs = fake.requests().filter((r) => r.id > mark);
    for (const rec of recs) {
      assert.ok(s.keys.includes(rec.headers['x-goog-api-key']),
                `a pool key went upstream in x-goog-api-key (${rec.path})`);
      assert.equal(rec.keySource, 'header', 'pool key sent as a header, not in the URL');
      assert.equal(rec.headers.authorization, undefined, 'no Authorization header upstream');
      assert.ok(!JSON.stringify(rec).includes(s.token), 'the client token never goes upstream');
    }
    return recs;
  };
  /** The only upstream request since `mark`, with its body parsed. */
  s.onlyUpstream = (mark) => {
    const recs = s.upstreamSince(mark);
    assert.equal(recs.length, 1, `exactly one upstream call (got ${recs.map((r) => r.path)})`);
    const rec = recs[0];
    rec.json = rec.body ? JSON.parse(rec.body) : undefined;
    return rec;
  };
  return s;
}

/**
 * Asserts `fn` rejects with an SDK error of class `Cls` (e.g. OpenAI.BadRequestError) and the
 * given status; returns the error for further checks.
 */
export async function sdkRejects(fn, Cls, status) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${Cls.name} ${status}, but the call succeeded`);
  assert.ok(err instanceof Cls,
            `expected ${Cls.name}, got ${err?.constructor?.name} ${err?.status}: ${err?.message}`);
  if (status !== undefined) assert.equal(err.status, status, err.message);
  return err;
}

/** Asserts an OpenAI-shaped error object {message, type, param, code} (the SDK's err.error). */
export function assertOpenAIErrorShape(error, {type, param, code} = {}) {
  assert.ok(error && typeof error === 'object', 'error body present');
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'error.message not empty');
  assert.equal(typeof error.type, 'string');
  assert.ok('param' in error, 'error.param present (null when none)');
  assert.ok('code' in error, 'error.code present (null when none)');
  if (type !== undefined) assert.equal(error.type, type);
  if (param !== undefined) assert.equal(error.param, param);
  if (code !== undefined) assert.equal(error.code, code);
}

/** Collects an SDK stream into an array of chunks. */
export async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

/** Data lines of a raw SSE text ("data: x\n\n" blocks), in order. */
export function sseData(raw) {
  return raw.split(/\r?\n\r?\n/).map((b) => b.split(/\r?\n/)
      .filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
      .filter((d) => d !== '');
}

/** A 1x1 PNG (red pixel). */
export const PNG_1X1 = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
    'base64');
