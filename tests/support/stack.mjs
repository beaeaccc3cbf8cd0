// One test's world: the stand-in upstream and a gemgate bootstrapped with the given pool keys and
// client tokens. Each suite keeps one fake upstream per file and starts a fresh gateway per test
// (key health is state, so tests must not share a gateway unless they say so).

import {startFakeGemini} from './fake-gemini.mjs';
import {startGateway, poolKey, clientToken, generate} from './gateway.mjs';

/**
 * Starts (or reuses `fake`, after resetting it) the upstream and a gateway.
 * opts: keys (pool keys; default one valid key), tokens (client tokens; default one), env
 * (extra env), settings, cronSecret, authToken, startTimeoutMs, configYaml.
 * Returns {fake, gw, keys, tokens, token, close()}; close() stops the gateway (and the fake when
 * this call created it) and removes the data dir.
 */
export async function startStack(opts = {}) {
  const ownFake = !opts.fake;
  const fake = opts.fake || await startFakeGemini();
  fake.reset();
  const keys = opts.keys || [poolKey('Valid')];
  const tokens = opts.tokens || [clientToken()];
  const env = {API_KEYS: keys.join(','), ALLOWED_TOKENS: tokens.join(','), ...opts.env};
  if (opts.cronSecret) env.CRON_SECRET = opts.cronSecret;
  if (opts.authToken) env.AUTH_TOKEN = opts.authToken;
  let gw;
  try {
    gw = await startGateway({env, upstream: fake, settings: opts.settings,
                             configYaml: opts.configYaml, startTimeoutMs: opts.startTimeoutMs});
  } catch (e) {
    if (ownFake) await fake.close();
    throw e;
  }
  return {
    fake, gw, keys, tokens, token: tokens[0],
    async close() {
      await gw.dispose();
      if (ownFake) await fake.close();
    },
  };
}

/**
 * Sends `n` generateContent requests one after another and returns, per request, the status and
 * how many upstream calls it caused: [{status, calls, json, ms}].
 */
export async function sequence(s, n, text = 'hi', o = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const before = s.fake.stats().total;
    const r = await generate(s.gw, `${text} ${i}`, {token: s.token, ...o});
    out.push({status: r.status, calls: s.fake.stats().total - before, json: r.json, ms: r.ms,
              headers: r.headers});
  }
  return out;
}

/**
 * Sends requests until pred() holds (checked after each), at most `max` of them, `pauseMs` apart.
 * Returns the number sent; throws if pred never held.
 */
export async function requestUntil(s, pred, {max = 20, text = 'until', pauseMs = 0, ...o} = {}) {
  for (let i = 1; i <= max; i++) {
    if (i > 1 && pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    const r = await generate(s.gw, `${text} ${i}`, {token: s.token, ...o});
    if (r.status !== 200 && !o.allowErrors) {
      throw new Error(`request ${i} got ${r.status}: ${r.text.slice(0, 300)}`);
    }
    if (pred()) return i;
  }
  throw new Error(`condition not reached after ${max} requests; fake stats: ${
      JSON.stringify(s.fake.stats().calls)}`);
}
