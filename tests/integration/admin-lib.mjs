// Shared helpers of the admin API suites (tests/integration/admin-*.test.mjs): a gateway with a
// known admin token, an admin API client that scans EVERY answer it receives for secrets (pool
// keys, client tokens, the admin token, session ids — the contract never returns them in full,
// except a client token in its own create answer), login/cookie helpers, raw-socket requests
// for byte-exact paths, and the route table of admin/README.md.
// Not a test file itself (the CMake glob registers *.test.mjs only).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startStack} from '../support/stack.mjs';
import {rawRequest, clientToken, collectGatewayLogs, REPO_ROOT, eventually, sleep}
  from '../support/gateway.mjs';

// ---------------------------------------------------------------------------------------------
// Secrets: every value registered here must never appear in an admin answer (body or header,
// Set-Cookie excepted for the session id) unless the call explicitly allows it.

const secrets = new Map();  // value → what it is
let scannedAnswers = 0;

/** Registers `value` (a pool key, client token, admin token, session id...) as never-returned. */
export function registerSecret(kind, value) {
  if (value && value.length >= 8) secrets.set(value, kind);
}

/** How many answers were scanned so far in this process (for a sanity check). */
export function scannedCount() {
  return scannedAnswers;
}

/** Fails, printing a masked context, when `text` holds a registered secret not in `allow`. */
export function assertNoSecrets(text, where, allow = []) {
  for (const [value, kind] of secrets) {
    if (allow.includes(value)) continue;
    const i = text.indexOf(value);
    if (i >= 0) {
      const ctx = text.slice(Math.max(0, i - 80), i + value.length + 40).split(value).join('<SECRET>');
      assert.fail(`${kind} found in full in ${where}: …${ctx}…`);
    }
  }
}

/** The contract's mask: first four, "…", last four. */
export function mask(secret) {
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}

export function sha256hex(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/**
 * A 39-character key of letters only ("AIzaSy" + 33 letters that can spell none of the fake
 * upstream's mode words), so a numeric search (q=<id>) can never match its text.
 */
export function letterKey() {
  const alphabet = 'bcfkmpwxzBCFKMPWXZ';
  let out = 'AIzaSy';
  const bytes = crypto.randomBytes(33);
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A strong admin token (printable ASCII, ≥ 16 characters). */
export function newAdminToken(tag = 'adm') {
  return `gga-${tag}-${crypto.randomBytes(18).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// Gateway

/**
 * Starts fake + gateway with a known admin token (opts.adminToken, else a new one; pass
 * adminToken: null to leave AUTH_TOKEN unset), registers every key/token/admin token as a secret
 * and stops everything when the test ends. Returns the stack with `adminToken`.
 */
export async function adminStack(t, fake, opts = {}) {
  const adminToken = opts.adminToken === undefined ? newAdminToken() : opts.adminToken;
  const s = await startStack({fake, ...opts, authToken: adminToken || undefined});
  t.after(() => s.close());
  s.adminToken = adminToken;
  if (adminToken) registerSecret('the admin token', adminToken);
  for (const k of s.keys) registerSecret('a pool key', k);
  for (const tok of s.tokens) registerSecret('a client token', tok);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Admin API client

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/**
 * Calls the admin API. opts:
 *   auth     'bearer' (default: the stack's admin token), 'none', 'cookie' (needs opts.cookie)
 *   token    bearer value to use instead of the admin token (auth 'bearer')
 *   cookie   the "gemgate_session=..." pair (auth 'cookie')
 *   body     object → JSON; string → sent as is
 *   headers  extra headers (a cookie call that mutates gets Content-Type: application/json
 *            unless headers say otherwise)
 *   allow    secrets allowed in this answer (e.g. a client token in its create answer)
 * Resolves to {status, headers, text, json, setCookie, ms}; scans the answer for secrets.
 */
export async function api(s, method, p, opts = {}) {
  const {auth = 'bearer', body, allow = []} = opts;
  const headers = {...(opts.headers || {})};
  if (auth === 'bearer') headers.authorization = `Bearer ${opts.token ?? s.adminToken}`;
  if (auth === 'cookie') {
    assert.ok(opts.cookie, 'auth cookie needs opts.cookie');
    headers.cookie = opts.cookie;
  }
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  }
  // A content-type key in opts.headers (even undefined = "send none") disables the default.
  const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  if (!hasType && (payload !== undefined || (auth === 'cookie' && MUTATING.has(method)))) {
    headers['content-type'] = 'application/json';
  }
  for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
  // fetch labels a string body text/plain by itself; a Buffer goes out without a type.
  if (typeof payload === 'string') payload = Buffer.from(payload);
  const url = p.startsWith('http') ? p : `${s.gw.url}${p}`;
  const t0 = Date.now();
  const res = await fetch(url, {method, headers, body: payload, redirect: 'manual',
                                signal: AbortSignal.timeout(opts.timeoutMs || 30000)});
  const text = await res.text();
  const out = {status: res.status, headers: res.headers, text, ms: Date.now() - t0,
               setCookie: res.headers.getSetCookie ? res.headers.getSetCookie() : []};
  try { out.json = JSON.parse(text); } catch { /* not JSON */ }
  scanAnswer(`${method} ${p} → ${res.status}`, text, res.headers, allow);
  return out;
}

function scanAnswer(where, text, headers, allow) {
  scannedAnswers++;
  assertNoSecrets(text, `the body of ${where}`, allow);
  for (const [name, value] of headers) {
    if (name === 'set-cookie') continue;  // carries the session id by design
    assertNoSecrets(value, `header ${name} of ${where}`, allow);
  }
}

/** Raw HTTP over node:net with the request target sent byte-exact; scans the answer. */
export async function raw(s, method, target, {headers = {}, body = ''} = {}) {
  const lines = [`${method} ${target} HTTP/1.1`];
  const h = {host: `127.0.0.1:${s.gw.port}`, connection: 'close', ...headers};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) lines.push(`${k}: ${v}`);
  if (body || MUTATING.has(method)) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  const r = await rawRequest(s.gw.port, `${lines.join('\r\n')}\r\n\r\n${body}`,
                             {responses: 1, timeoutMs: 10000});
  const res = r.responses[0];
  assert.ok(res, `no answer to ${method} ${target}: ${r.text.slice(0, 200)} ${r.error || ''}`);
  scannedAnswers++;
  assertNoSecrets(r.text, `the raw answer to ${method} ${target}`);
  return res;
}

/** An error body of the admin API: {"error":{"message", "field"?}}; returns the error object. */
export function adminError(r, status, field) {
  assert.equal(r.status, status, `want ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.ok(r.json && typeof r.json.error === 'object', `error body: ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0, 'error message is not empty');
  if (field !== undefined) assert.equal(r.json.error.field, field, `error field: ${r.text}`);
  return r.json.error;
}

/** Asserts a 2xx JSON answer and returns its body. */
export function ok(r, status = 200) {
  assert.equal(r.status, status, `want ${status}, got ${r.status}: ${r.text.slice(0, 400)}`);
  assert.ok(r.json !== undefined, `JSON body: ${r.text.slice(0, 200)}`);
  return r.json;
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** Parses one Set-Cookie line into {name, value, attrs: {lowercased name: value|true}}. */
export function parseSetCookie(line) {
  const [pair, ...rest] = line.split(';').map((x) => x.trim());
  const eq = pair.indexOf('=');
  const attrs = {};
  for (const a of rest) {
    if (!a) continue;
    const i = a.indexOf('=');
    if (i < 0) attrs[a.toLowerCase()] = true;
    else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return {name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs};
}

/**
 * POST /admin/api/login with `token` (the admin token by default). Returns {r, cookie, value,
 * parsed}; `cookie` is the "gemgate_session=<id>" pair to send back (null when none was set).
 */
export async function login(s, token = s.adminToken, headers = {}) {
  const r = await api(s, 'POST', '/admin/api/login', {auth: 'none', body: {token}, headers});
  const line = r.setCookie.find((c) => c.startsWith('gemgate_session='));
  if (!line) return {r, cookie: null};
  const parsed = parseSetCookie(line);
  registerSecret('a session id', parsed.value);
  return {r, cookie: `gemgate_session=${parsed.value}`, value: parsed.value, parsed};
}

/** Logs in and asserts success; returns the cookie pair. */
export async function loginCookie(s, token = s.adminToken) {
  const l = await login(s, token);
  assert.equal(l.r.status, 200, `login: ${l.r.text}`);
  assert.ok(l.cookie, 'login sets the session cookie');
  return l.cookie;
}

/** GET /admin/api/session with the cookie; its status. */
export async function sessionStatus(s, cookie) {
  return (await api(s, 'GET', '/admin/api/session', {auth: 'cookie', cookie})).status;
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens

/** All keys (GET /keys, every page), as the API returns them. */
export async function allKeys(s) {
  const items = [];
  for (let page = 1; ; page++) {
    const j = ok(await api(s, 'GET', `/admin/api/keys?per_page=500&page=${page}`));
    items.push(...j.items);
    if (items.length >= j.total || j.items.length === 0) return items;
  }
}

/** The Key object of `secret` (found through q= on its last 12 characters and its mask). */
export async function keyOf(s, secret) {
  const j = ok(await api(s, 'GET', `/admin/api/keys?q=${encodeURIComponent(secret.slice(-12))}`));
  const found = j.items.filter((k) => k.masked === mask(secret));
  assert.equal(found.length, 1, `one key matches …${secret.slice(-4)}: ${JSON.stringify(j.items)}`);
  return found[0];
}

/** The Key object with `id`, or undefined. */
export async function keyById(s, id) {
  return (await allKeys(s)).find((k) => k.id === id);
}

/** Adds pool keys through the API; returns the answer body. */
export async function addKeys(s, keys) {
  for (const k of keys) registerSecret('a pool key', k);
  const r = await api(s, 'POST', '/admin/api/keys', {body: {keys}});
  assert.ok(r.status === 200 || r.status === 201, `add keys: ${r.status} ${r.text}`);
  return r.json;
}

/** Creates a client token through the API; returns {id, label, masked, token}. */
export async function createToken(s, body = {}) {
  if (body.token) registerSecret('a client token', body.token);
  const r = await api(s, 'POST', '/admin/api/tokens', {body, allow: body.token ? [body.token] : []});
  // The generated token is only known from this answer: it is allowed here, and only here.
  if (r.status === 201 && r.json?.token) registerSecret('a client token', r.json.token);
  assert.equal(r.status, 201, `create token: ${r.text.slice(0, 300)}`);
  return r.json;
}

/** Scans a proxied answer too (it must not leak pool keys either). */
export function scanProxied(r, where) {
  scannedAnswers++;
  assertNoSecrets(r.text || '', where);
}

// ---------------------------------------------------------------------------------------------
// Logs

/** The gateway's logs so far (stdout + stderr of every run). */
export function gatewayLogs(s) {
  return collectGatewayLogs(s.gw);
}

// ---------------------------------------------------------------------------------------------
// The routes of admin/README.md. `kind`: api (401 without credentials), page (302 to the login
// page without credentials), public (no credentials needed).

export const ROUTES = [
  {method: 'POST', path: '/admin/api/login', kind: 'public'},
  {method: 'GET', path: '/admin/login', kind: 'public'},
  {method: 'GET', path: '/admin/assets/*', kind: 'public'},
  {method: 'GET', path: '/admin', kind: 'page'},
  {method: 'POST', path: '/admin/api/logout', kind: 'api'},
  {method: 'GET', path: '/admin/api/session', kind: 'api'},
  {method: 'GET', path: '/admin/api/keys', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys', kind: 'api'},
  {method: 'DELETE', path: '/admin/api/keys/{id}', kind: 'api'},
  {method: 'PATCH', path: '/admin/api/keys/{id}', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys/{id}/verify', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys/{id}/reset', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys/{id}/enable', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys/{id}/disable', kind: 'api'},
  {method: 'POST', path: '/admin/api/keys/bulk', kind: 'api'},
  {method: 'GET', path: '/admin/api/tokens', kind: 'api'},
  {method: 'POST', path: '/admin/api/tokens', kind: 'api'},
  {method: 'PATCH', path: '/admin/api/tokens/{id}', kind: 'api'},
  {method: 'DELETE', path: '/admin/api/tokens/{id}', kind: 'api'},
  {method: 'GET', path: '/admin/api/settings', kind: 'api'},
  {method: 'PATCH', path: '/admin/api/settings', kind: 'api'},
  {method: 'GET', path: '/admin/api/logs', kind: 'api'},
  {method: 'DELETE', path: '/admin/api/logs', kind: 'api'},
  {method: 'GET', path: '/admin/api/stats', kind: 'api'},
  {method: 'POST', path: '/admin/api/reload', kind: 'api'},
];

/**
 * The "METHOD /admin/..." routes admin/README.md documents, as "METHOD path" strings with the
 * query dropped ("`POST /admin/api/keys/{id}/reset` \| `/enable`" expands to both).
 */
export function documentedRoutes() {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'admin', 'README.md'), 'utf8');
  const found = new Set();
  for (const line of text.split('\n')) {
    let last = null;
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      const code = m[1].trim();
      const full = code.match(/^(GET|POST|PATCH|PUT|DELETE) (\/admin[^\s?`]*)/);
      if (full) {
        last = {method: full[1], path: full[2]};
        found.add(`${last.method} ${last.path}`);
      } else if (last && /^\/[a-z]+$/.test(code)) {
        // "`POST /admin/api/keys/{id}/reset` \| `/enable`": same method, last segment replaced
        found.add(`${last.method} ${last.path.replace(/\/[^/]+$/, code)}`);
      }
    }
  }
  return [...found];
}

export {eventually, sleep, clientToken};
