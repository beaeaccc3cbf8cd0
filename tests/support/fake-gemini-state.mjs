// State and control API of the stand-in Gemini upstream (fake-gemini.mjs): per-key call
// counts, recorded requests, abort accounting, runtime key-mode overrides and scripted answers.
// The control endpoints (/__stats, /__requests, /__reset, /__control/key, /__control/script,
// /__control/resource) and
// the in-process handle methods both go through the functions here.

import {controlResource} from './fake-gemini-resources.mjs';

/** Behaviours a key can have; a key's name picks the first one it contains. */
export const MODES = ['invalid', 'denied', 'unauth', 'quota', 'overload', 'error500', 'reset',
                      'slow', 'hang'];

/** A fresh, empty state (counts, recorded requests, overrides, scripts). */
export function newState() {
  return {calls: new Map(), callsByModel: {}, total: 0, aborted: 0, abortedEvents: [], active: 0,
          resets: 0, requests: [], overrides: new Map(), scripts: [], timers: new Set(), seq: 0,
          closed: false, allMode: null, resources: new Map()};
}

/** Clears counts, records, overrides and scripts; in-flight requests keep being tracked. */
export function resetState(st) {
  const keep = {timers: st.timers, active: st.active, seq: st.seq};
  Object.assign(st, newState(), keep);
}

/** A JSON-able copy of the counters (the body of GET /__stats). */
export function statsOf(st) {
  return {calls: Object.fromEntries(st.calls), callsByModel: structuredClone(st.callsByModel),
          total: st.total, aborted: st.aborted, abortedEvents: st.abortedEvents.slice(),
          active: st.active, resets: st.resets, scriptsPending: st.scripts.length};
}

/**
 * Overrides a key's behaviour (mode null/'default' removes the override). retryDelay: seconds for
 * quota's RetryInfo ('none' omits it); delayMs: slow's delay; models: limit the mode to these.
 * Throws on an unknown mode.
 */
export function setKeyMode(st, {key, mode, retryDelay, delayMs, models}) {
  if (!key) throw new Error('key required');
  if (mode === null || mode === undefined || mode === 'default') { st.overrides.delete(key); return; }
  if (mode !== 'valid' && !MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  st.overrides.set(key, {mode, retryDelay, delayMs, models});
}

/** Gives every key the behaviour `mode` (an upstream-wide outage: 'overload' = 503 UNAVAILABLE
 * for all); null/'default' ends it. Per-key overrides apply again afterwards. */
export function setAllMode(st, mode) {
  if (mode === null || mode === undefined || mode === 'default') { st.allMode = null; return; }
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  st.allMode = mode;
}

/** Appends scripted answers (one entry or an array); returns how many are pending. */
export function queueScript(st, entries) {
  for (const e of [].concat(entries)) st.scripts.push({...e, left: e.times || 1});
  return st.scripts.length;
}

/** The behaviour of a key: the runtime override, else the first mode word it contains. */
export function keyBehaviour(st, key) {
  if (st.allMode) return {mode: st.allMode};
  if (st.overrides.has(key)) return st.overrides.get(key);
  const lower = key.toLowerCase();
  return {mode: MODES.find((m) => lower.includes(m)) || 'valid'};
}

/** Returns (and uses up) the first scripted answer matching the request, or null. */
export function takeScript(st, req, url, key) {
  const i = st.scripts.findIndex((s) => {
    const m = s.match || {};
    return (!m.pathIncludes || url.pathname.includes(m.pathIncludes)) &&
           (!m.method || m.method.toUpperCase() === req.method) && (!m.key || m.key === key);
  });
  if (i < 0) return null;
  const s = st.scripts[i];
  if (--s.left <= 0) st.scripts.splice(i, 1);
  return s;
}

/** Serves one /__* control request. */
export async function control(req, res, url, body, st) {
  const reply = (status, obj) => {
    const t = JSON.stringify(obj);
    res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(t)});
    res.end(t);
  };
  let json = null;
  if (body.length) {
    try { json = JSON.parse(body.toString('utf8')); } catch { return reply(400, {error: 'bad json'}); }
  }
  const p = url.pathname;
  try {
    if (req.method === 'GET' && p === '/__stats') return reply(200, statsOf(st));
    if (req.method === 'GET' && p === '/__health') return reply(200, {status: 'ok'});
    if (req.method === 'GET' && p === '/__requests') {
      const limit = Number(url.searchParams.get('limit')) || st.requests.length;
      return reply(200, st.requests.slice(-limit));
    }
    if (req.method === 'POST' && p === '/__reset') { resetState(st); return reply(200, {ok: true}); }
    if (req.method === 'POST' && p === '/__control/key') { setKeyMode(st, json || {}); return reply(200, {ok: true}); }
    if (req.method === 'POST' && p === '/__control/all') { setAllMode(st, json?.mode); return reply(200, {ok: true}); }
    if (req.method === 'POST' && p === '/__control/resource') return reply(200, controlResource(st, json || {}));
    if (req.method === 'POST' && p === '/__control/script') {
      return reply(200, {queued: queueScript(st, json || [])});
    }
  } catch (err) {
    return reply(400, {error: String(err.message || err)});
  }
  return reply(404, {error: 'unknown control endpoint'});
}
