// Small Gemini-native client for the suites: makes realistic pool keys and client tokens, and
// calls the gateway with the client credential in any of the three accepted places.

import crypto from 'node:crypto';

let seq = 0;
function digits(n) {
  // Digits only, so a generated key can never contain one of the fake upstream's mode words.
  let s = '';
  while (s.length < n) s += crypto.randomInt(0, 1e9).toString().padStart(9, '0');
  return s.slice(0, n);
}

/**
 * A 39-character Gemini-looking key "AIzaSy<Tag>_<digits>". The tag selects the fake upstream's
 * behaviour (e.g. "Invalid", "Quota", "Overload"; "Valid" or anything else → valid).
 */
export function poolKey(tag = 'Valid') {
  const head = `AIzaSy${tag}${(++seq).toString(36)}_`;
  return head + digits(Math.max(4, 39 - head.length));
}

/** A client token that looks nothing like a pool key ("gg-<tag>-<digits>"). */
export function clientToken(tag = 'client') {
  return `gg-${tag}-${digits(24)}`;
}

/** Body of a one-turn generateContent request. */
export function genBody(text, extra = {}) {
  return {contents: [{role: 'user', parts: [{text}]}], ...extra};
}

/**
 * Calls the gateway. opts: method (POST if there is a body, else GET), body (object → JSON,
 * string/Buffer as is), token and via ('header' = x-goog-api-key, 'query' = ?key=, 'bearer',
 * 'none'), headers, timeoutMs (15000), signal. Resolves to {status, headers (Headers), text,
 * json, ms}. Never throws for HTTP errors; network errors are thrown.
 */
export async function call(base, path, opts = {}) {
  const {body, token, via = 'header', headers = {}, timeoutMs = 15000} = opts;
  const url = new URL(path, typeof base === 'string' ? base : base.url);
  const h = {...headers};
  if (token && via === 'query') url.searchParams.set('key', token);
  if (token && via === 'header') h['x-goog-api-key'] = token;
  if (token && via === 'bearer') h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
    payload = JSON.stringify(body);
    h['content-type'] ||= 'application/json';
  }
  const method = opts.method || (body !== undefined ? 'POST' : 'GET');
  const t0 = Date.now();
  const res = await fetch(url, {method, headers: h, body: payload,
                                signal: opts.signal || AbortSignal.timeout(timeoutMs)});
  if (opts.raw) return res;
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, headers: res.headers, text, json, ms: Date.now() - t0};
}

/** POST <prefix>/models/<model>:generateContent with one user turn. */
export function generate(base, text, {model = 'gemini-2.5-flash', prefix = '/v1beta', ...o} = {}) {
  return call(base, `${prefix}/models/${model}:generateContent`, {body: genBody(text), ...o});
}

/**
 * Starts a streamGenerateContent call (alt=sse unless sse === false) and returns the fetch
 * Response unread, so the caller can time the events (see sseEvents / timedBody).
 */
export function streamGenerate(base, text, {model = 'gemini-2.5-flash', prefix = '/v1beta',
                                            sse = true, ...o} = {}) {
  const q = sse ? '?alt=sse' : '';
  return call(base, `${prefix}/models/${model}:streamGenerateContent${q}`,
              {body: genBody(text), raw: true, timeoutMs: 60000, ...o});
}

/** The text of a generateContent answer (all parts of the first candidate). */
export function answerText(json) {
  return (json?.candidates?.[0]?.content?.parts || []).map((p) => p.text || '').join('');
}

/**
 * Checks that `json` has Google's error shape {"error": {"code", "message", "status"}} and
 * returns a description of what is wrong, or '' when it is fine.
 */
export function geminiErrorProblem(json, code) {
  if (!json || typeof json !== 'object') return 'body is not JSON';
  const e = json.error;
  if (!e || typeof e !== 'object') return 'no "error" object';
  if (code !== undefined && e.code !== code) return `error.code is ${e.code}, want ${code}`;
  if (typeof e.message !== 'string' || !e.message) return 'error.message missing';
  if (typeof e.status !== 'string' || !/^[A-Z_]+$/.test(e.status)) return 'error.status missing';
  return '';
}
