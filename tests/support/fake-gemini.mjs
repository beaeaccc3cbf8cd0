// Stand-in for generativelanguage.googleapis.com, used by gemgate's integration, e2e and bench
// tests. Plain node:http (node:http2 over TLS), no dependency, never touches the network beyond
// its own socket.
//
//   import {startFakeGemini} from './fake-gemini.mjs';
//   const fake = await startFakeGemini({port: 0});   // → {url, port, close(), stats(), ...}
//   const tls = await startFakeGemini({tls: true});  // HTTPS, h2 or http/1.1 by ALPN → {caFile,
//                                                    //   sessions(), goaway(), dropSessions(), ...}
//                                                    //   (fake-gemini-tls.mjs)
//   node tests/support/fake-gemini.mjs --port 9999    // standalone (bench, manual runs)
//
// ENDPOINTS (under /v1beta/ and /v1/): GET models (pageSize, pageToken), GET models/{m},
// POST models/{m}:generateContent | :streamGenerateContent (?alt=sse → text/event-stream
// "data: {...}\r\n\r\n"; otherwise a JSON array streamed piece by piece "[{...}\r\n,{...}]",
// whose errors are also wrapped in an array, as Google does) | :countTokens | :embedContent |
// :batchEmbedContents (≤ 100 requests) | :predict | :predictLongRunning (image, speech and video
// models: fake-gemini-media.mjs). Other paths → Google's HTML 404.
//
// KEYS. The key comes from `x-goog-api-key` (or `?key=`). Its behaviour is chosen by a
// case-insensitive substring of the key, unless overridden with POST /__control/key:
//   invalid  → 400 INVALID_ARGUMENT, ErrorInfo API_KEY_INVALID
//   denied   → 403 PERMISSION_DENIED, ErrorInfo CONSUMER_SUSPENDED (the message contains the key!)
//   unauth   → 401 UNAUTHENTICATED
//   quota    → 429 RESOURCE_EXHAUSTED, QuotaFailure + RetryInfo {"retryDelay": "<n>s"} (30 s;
//              retryDelay "none" in an override leaves RetryInfo out)
//   overload → 503 UNAVAILABLE "The model is overloaded. Please try again later."
//   error500 → 500 INTERNAL
//   reset    → the TCP connection is reset without an answer
//   slow     → valid, but the head is sent after delayMs (3000 ms)
//   hang     → never answers
//   anything else → valid. No key → 403 "unregistered callers"; only an Authorization header →
//   401. quota/overload/error500/reset/slow/hang apply to POST model calls only; an override may
//   be limited to some models ({models: [...]}).
//
// PROMPT DIRECTIVES. Text like [[chunks=5 interval=100]] anywhere in the request body shapes the
// answer, through any client (native or translated):
//   chunks=N        stream chunk count (default 3)      interval=MS  pause between chunks (20)
//   delay=MS        delay before the response head       ttft=MS      delay before the first chunk
//   reset_after=N   reset the connection after N chunks (0: before the head)
//   error_after=N   after N chunks send an error (SSE "data: {error}" event / array element), end
//   hang_after=N    after N chunks stop sending but keep the connection open
//   hang            never answer                         status=CODE  answer Google's error CODE
//   block           promptFeedback.blockReason SAFETY    finish=R     last finishReason (STOP)
//   thoughts=N      usageMetadata.thoughtsTokenCount     thought      add a thought part
//   call=NAME       answer a functionCall NAME           pad=N        N filler letters per chunk
// The reply text is "echo: <last user text without directives>", stream chunk i>0 adds " #i".
//
// CONTROL API (not under /v1*): GET /__stats → {calls: {key: n}, callsByModel, total, aborted,
// abortedEvents: [{key, path, at, chunksSent}], active, resets}; GET /__requests?limit=N → the
// last requests (method, path, query, headers, body, key, keySource, model, action, time);
// POST /__reset; POST /__control/key {key, mode|null, retryDelay?, delayMs?, models?};
// POST /__control/all {mode|null} gives every key one mode (e.g. 'overload': 503 for everyone);
// POST /__control/resource {key, kind?|name?} a resource owned by key (fake-gemini-resources.mjs);
// POST /__control/script [{status?, headers?, body? | sse?: [...] | chunks?: [...],
// intervalMs?, delayMs?, reset?, hang?, times?, match?: {pathIncludes, method, key}}] queues
// exact answers for the next matching requests (before any key or directive handling).

import http from 'node:http';
import zlib from 'node:zlib';
import {pathToFileURL} from 'node:url';
import * as E from './fake-gemini-errors.mjs';
import * as C from './fake-gemini-content.mjs';
import {mediaAnswer} from './fake-gemini-media.mjs';
import {serveFiles} from './fake-gemini-files.mjs';
import {controlResource, resourceUseError, serveResources} from './fake-gemini-resources.mjs';
import {resourceOf} from './fake-resources.mjs';
import {createTlsServer, connectionOf, resetStream} from './fake-gemini-tls.mjs';
import {newState, resetState, statsOf, setKeyMode, setAllMode, queueScript, keyBehaviour,
        takeScript, control} from './fake-gemini-state.mjs';

const MODEL_CALL_ONLY = new Set(['quota', 'overload', 'error500', 'reset', 'slow', 'hang']);
const GOOGLE_HEADERS = {
  'vary': 'Origin, X-Origin, Referer',
  'server': 'scaffolding on HTTPServer2',
  'x-xss-protection': '0',
  'x-frame-options': 'SAMEORIGIN',
  'x-content-type-options': 'nosniff',
};

/**
 * Starts the fake upstream. Options: port (0 = any), host, gzip (compress non-stream JSON when
 * the client accepts it; default true), slowDelayMs (3000), quotaRetryDelaySec (30),
 * maxRecorded (requests kept for /__requests, 500), log (print one line per request), tls
 * (HTTPS with HTTP/2 and HTTP/1.1 by ALPN and a certificate of its own, default false).
 * Resolves to a handle; its methods mirror the control API and act in-process. With tls the
 * handle also has caFile (the certificate to trust), sessions() and goaway(); every recorded
 * request has httpVersion and session (the connection's number) either way.
 */
export async function startFakeGemini(opts = {}) {
  const cfg = {port: 0, host: '127.0.0.1', gzip: true, slowDelayMs: 3000, quotaRetryDelaySec: 30,
               maxRecorded: 500, log: false, ...opts};
  const st = newState();
  const sockets = new Set();
  const onRequest = (req, res) => handle(req, res, st, cfg).catch((err) => {
    if (!res.headersSent) send(res, 500, {error: {code: 500, message: String(err), status: 'INTERNAL'}});
    else res.destroy();
  });
  const tls = cfg.tls ? createTlsServer(onRequest) : null;
  const server = tls ? tls.server : http.createServer(onRequest);
  server.keepAliveTimeout = 30000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, resolve);
  });
  const port = server.address().port;
  const handle_ = {
    url: `${tls ? 'https' : 'http'}://${cfg.host}:${port}`, port, host: cfg.host, server,
    caFile: tls?.caFile, sessions: () => tls?.sessions() ?? [],
    /** TLS only: GOAWAY on every open HTTP/2 session, which then closes. */
    goaway: () => tls?.goaway(),
    /** TLS only: closes every open HTTP/2 session's connection at once, without GOAWAY. */
    dropSessions: () => tls?.dropSessions(),
    /** Pauses `pauseMs` after every `everyBytes` of each request body it reads (null: full speed). */
    slowBodyReads: (o) => { cfg.bodyReadPause = o || null; },
    /** The next request whose body reaches `afterBytes` is reset there (RST_STREAM on HTTP/2). */
    resetBodyOnce: (afterBytes) => { cfg.bodyReset = {afterBytes}; },
    stats: () => statsOf(st),
    requests: (limit) => st.requests.slice(-(limit || st.requests.length)),
    reset: () => { resetState(st); cfg.bodyReadPause = null; cfg.bodyReset = null; },
    setKeyMode: (key, mode, o = {}) => setKeyMode(st, {key, mode, ...o}),
    setAllMode: (mode) => setAllMode(st, mode),
    script: (entries) => queueScript(st, entries),
    callsFor: (key) => st.calls.get(key) || 0,
    /** The bytes of an uploaded file ("files/<id>"), or undefined. */
    fileBytes: (name) => resourceOf(st, name)?.bytes,
    /** Creates a resource owned by a key, as POST /__control/resource (fake-gemini-resources.mjs). */
    createResource: (json) => controlResource(st, json),
    /** Polls stats until pred(stats) is true; rejects after timeoutMs with the last stats. */
    async waitFor(pred, timeoutMs = 3000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = statsOf(st);
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`fake-gemini waitFor timed out: ${JSON.stringify(s)}`);
        await sleepPlain(20);
      }
    },
    async close() {
      st.closed = true;
      for (const t of st.timers) clearTimeout(t);
      server.close();
      server.closeAllConnections?.();
      tls?.close();
      for (const s of sockets) s.destroy();
    },
  };
  return handle_;
}

/** The request body; null when resetBodyOnce() cut it (the request is then not handled). */
async function readBody(req, cfg, st) {
  const parts = [];
  let sincePause = 0, total = 0;
  for await (const c of req) {
    parts.push(c);
    total += c.length;
    if (cfg.bodyReset && total >= cfg.bodyReset.afterBytes) {
      cfg.bodyReset = null;
      st.resets++;
      if (!resetStream(req)) req.socket.destroy();
      return null;
    }
    const p = cfg.bodyReadPause;
    if (p && (sincePause += c.length) >= p.everyBytes) {  // a slow reader: the client must wait
      sincePause = 0;
      await sleepPlain(p.pauseMs);
    }
  }
  return Buffer.concat(parts);
}

async function handle(req, res, st, cfg) {
  const url = new URL(req.url, 'http://fake');
  const body = await readBody(req, cfg, st);
  if (body === null) return;
  if (url.pathname.startsWith('/__')) return control(req, res, url, body, st);

  const ctx = {st, cfg, req, res, url, body, closed: false, chunksSent: 0, serverReset: false,
               finished: false};
  const headerKey = req.headers['x-goog-api-key'];
  const queryKey = url.searchParams.get('key');
  ctx.key = headerKey || queryKey || null;
  ctx.keySource = headerKey ? 'header' : queryKey ? 'query' : null;
  const m = url.pathname.match(/^\/(v1beta|v1)\/models(?:\/([^:\/]+)(?::([A-Za-z]+))?)?\/?$/);
  ctx.apiVersion = m?.[1];
  ctx.modelName = m?.[2] ? decodeURIComponent(m[2]) : null;
  ctx.action = m?.[3] || (m ? (ctx.modelName ? 'get' : 'list') : null);
  track(ctx);

  const script = takeScript(st, req, url, ctx.key);
  if (script) return serveScript(ctx, script);
  if ((await serveFiles(ctx)) || (await serveResources(ctx))) return;
  if (!m || (req.method === 'GET') !== (ctx.action === 'get' || ctx.action === 'list')) {
    return sendRaw(res, 404, 'text/html; charset=UTF-8',
                   '<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title>' +
                   `<p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>${
                       escapeHtml(url.pathname)}</code> was not found on this server.</html>`);
  }
  const wrap = ctx.action === 'streamGenerateContent' && url.searchParams.get('alt') !== 'sse';
  const fail = (e) => send(res, e.status, wrap ? [e.body] : e.body);
  if (!ctx.key) return fail(req.headers.authorization ? E.unauthenticated() : E.unregisteredCaller());

  const beh = keyBehaviour(st, ctx.key);
  const isModelCall = req.method === 'POST';
  if (!MODEL_CALL_ONLY.has(beh.mode) || (isModelCall && appliesTo(beh, ctx.modelName))) {
    switch (beh.mode) {
      case 'invalid': return fail(E.apiKeyInvalid());
      case 'denied': return fail(E.consumerSuspended(ctx.key));
      case 'unauth': return fail(E.unauthenticated());
      case 'quota': {
        const delay = beh.retryDelay === 'none' ? null : beh.retryDelay ?? cfg.quotaRetryDelaySec;
        return fail(E.quotaExhausted(ctx.modelName, delay));
      }
      case 'overload': return fail(E.overloaded());
      case 'error500': return fail(E.internalError());
      case 'reset': return resetConnection(ctx);
      case 'hang': return;  // never answer; counted as aborted when the caller gives up
      case 'slow': if (!(await ctx.sleep(beh.delayMs ?? cfg.slowDelayMs))) return; break;
    }
  }
  if (ctx.action === 'list') {
    const page = C.listModelsPage(url.searchParams);
    return page.status === 200 ? send(res, 200, page.body, ctx) : fail(page);
  }
  const model = C.findModel(ctx.modelName);
  if (!model || (ctx.action !== 'get' && !C.modelSupports(model, ctx.action))) {
    return fail(E.modelNotFound(ctx.modelName, ctx.apiVersion, ctx.action === 'get' ? 'get' : ctx.action));
  }
  if (ctx.action === 'get') return send(res, 200, C.modelJson(model));
  let json;
  try {
    json = JSON.parse(body.toString('utf8') || '{}');
  } catch (err) {
    return fail(E.invalidJson(`Unexpected token at byte ${body.length ? 0 : 1}.`));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return fail(E.invalidJson('Expected an object.'));
  }
  const denied = resourceUseError(ctx, json);
  if (denied) return fail(denied);
  const d = C.parseDirectives(body.toString('utf8'));
  ctx.directives = d;
  const media = mediaAnswer(ctx, model, json, d);  // image and speech models: fake-gemini-media.mjs
  if (media) return media.status === 200 ? send(res, 200, media.body, ctx) : fail(media);
  const other = {countTokens: C.countTokensAnswer, embedContent: C.embedAnswer,
                 batchEmbedContents: C.batchEmbedAnswer}[ctx.action];
  if (other) {
    const a = other(model, json);
    return send(res, a.status, a.body, a.status === 200 ? ctx : undefined);
  }
  return generate(ctx, model, json, d, fail);
}

function appliesTo(beh, modelName) {
  return !beh.models || beh.models.includes(String(modelName).replace(/^models\//, ''));
}

/** Records the request, counts the call per key and per model, wires abort accounting. */
function track(ctx) {
  const {st, req, res, url, body} = ctx;
  const key = ctx.key || '(none)';
  st.total++;
  st.calls.set(key, (st.calls.get(key) || 0) + 1);
  const byModel = (st.callsByModel[key] ||= {});
  const mk = ctx.modelName || '(list)';
  byModel[mk] = (byModel[mk] || 0) + 1;
  ctx.id = ++st.seq;
  st.requests.push({
    id: ctx.id, time: Date.now(), method: req.method, path: url.pathname, url: req.url,
    query: Object.fromEntries(url.searchParams), headers: {...req.headers},
    rawHeaders: req.rawHeaders.slice(), body: body.toString('utf8').slice(0, 1 << 20),
    bodyBytes: body.length, key: ctx.key, keySource: ctx.keySource, model: ctx.modelName,
    action: ctx.action, apiVersion: ctx.apiVersion, ...connectionOf(req),
  });
  if (st.requests.length > ctx.cfg.maxRecorded) st.requests.shift();
  st.active++;
  res.on('close', () => {
    st.active--;
    ctx.closed = true;
    if (!res.writableFinished && !ctx.serverReset) {
      st.aborted++;
      st.abortedEvents.push({key: ctx.key, path: url.pathname, at: Date.now(),
                             chunksSent: ctx.chunksSent});
    }
  });
  /** Sleeps unless the exchange closes first; resolves false when it closed. */
  ctx.sleep = (ms) => new Promise((resolve) => {
    if (ctx.closed) return resolve(false);
    if (!(ms > 0)) return resolve(true);
    const onClose = () => { clearTimeout(t); st.timers.delete(t); resolve(false); };
    const t = setTimeout(() => {
      st.timers.delete(t);
      res.off('close', onClose);
      resolve(!ctx.closed);
    }, ms);
    st.timers.add(t);
    res.once('close', onClose);
  });
  if (ctx.cfg.log) console.error(`fake-gemini ${req.method} ${url.pathname} key=${mask(ctx.key)}`);
}

function mask(key) {
  return key ? `${key.slice(0, 4)}…${key.slice(-2)}` : '-';
}

async function serveScript(ctx, s) {
  const {res} = ctx;
  if (s.delayMs && !(await ctx.sleep(s.delayMs))) return;
  if (s.hang) return;
  if (s.reset) return resetConnection(ctx);
  const headers = {...GOOGLE_HEADERS, ...(s.headers || {})};
  const events = s.sse || s.chunks;
  if (!events) {
    const b = s.body === undefined ? '' : typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json; charset=UTF-8';
    }
    res.writeHead(s.status || 200, headers);
    return res.end(b);
  }
  headers['content-type'] ||= s.sse ? 'text/event-stream' : 'application/json; charset=UTF-8';
  res.writeHead(s.status || 200, headers);
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && !(await ctx.sleep(s.intervalMs || 0))) return;
    const e = events[i];
    let out;
    if (s.sse) out = typeof e === 'object' && e.raw !== undefined ? e.raw
                   : `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\r\n\r\n`;
    else out = typeof e === 'string' ? e : JSON.stringify(e);
    res.write(out);
    ctx.chunksSent++;
  }
  if (s.resetAtEnd) return resetConnection(ctx);
  res.end();
}

function resetConnection(ctx) {
  ctx.serverReset = true;
  ctx.st.resets++;
  if (resetStream(ctx.req)) return;  // HTTP/2: RST_STREAM on this stream only
  const sock = ctx.req.socket;
  if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
  else sock.destroy();
}

async function generate(ctx, model, json, d, fail) {
  const {res} = ctx;
  const stream = ctx.action === 'streamGenerateContent';
  const sse = stream && ctx.url.searchParams.get('alt') === 'sse';
  if (!Array.isArray(json.contents) || json.contents.length === 0) {
    return fail(E.invalidArgument('* GenerateContentRequest.contents: contents is not specified\n'));
  }
  if (d.hang) return;
  if (d.delay && !(await ctx.sleep(d.delay))) return;
  if (d.reset_after === 0) return resetConnection(ctx);
  if (d.status) return fail(E.errorForStatus(Number(d.status), model.id));
  const responseId = Buffer.from(`fake-${ctx.id}-${model.id}`).toString('base64url').slice(0, 22);
  const chunks = C.generationChunks({model, body: json, directives: d, stream, responseId});
  if (!stream) {
    if (d.reset_after !== undefined) {  // non-stream: head and half a body, then a reset
      res.writeHead(200, {...GOOGLE_HEADERS, 'content-type': 'application/json; charset=UTF-8'});
      const text = JSON.stringify(chunks[0], null, 2);
      res.write(text.slice(0, text.length >> 1));
      return setTimeout(() => resetConnection(ctx), 20);
    }
    return send(res, 200, chunks[0], ctx);
  }
  res.writeHead(200, {...GOOGLE_HEADERS, 'content-type': sse ? 'text/event-stream'
                                                              : 'application/json; charset=UTF-8'});
  res.flushHeaders();
  const interval = d.interval ?? 20;
  if (d.ttft && !(await ctx.sleep(d.ttft))) return;
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0 && !(await ctx.sleep(interval))) return;
    if (d.reset_after !== undefined && i === d.reset_after) return resetConnection(ctx);
    if (d.hang_after !== undefined && i === d.hang_after) return;
    if (d.error_after !== undefined && i === d.error_after) {
      const e = E.internalError().body;
      res.write(sse ? `data: ${JSON.stringify(e)}\r\n\r\n` : `${i ? '\r\n,' : '['}${JSON.stringify(e, null, 2)}]`);
      return res.end();
    }
    res.write(sse ? `data: ${JSON.stringify(chunks[i])}\r\n\r\n`
                  : `${i ? '\r\n,' : '['}${JSON.stringify(chunks[i], null, 2)}`);
    ctx.chunksSent++;
  }
  if (!sse) res.write(']');
  res.end();
}

/** Sends a JSON answer with Google's headers; gzip when asked for and enabled. */
function send(res, status, obj, ctx) {
  const text = JSON.stringify(obj, null, 2) + '\n';
  const headers = {...GOOGLE_HEADERS, 'content-type': 'application/json; charset=UTF-8'};
  const ae = ctx?.req.headers['accept-encoding'] || '';
  if (ctx?.cfg.gzip && status === 200 && /\bgzip\b/.test(ae)) {
    const gz = zlib.gzipSync(text);
    res.writeHead(status, {...headers, 'content-encoding': 'gzip', 'content-length': gz.length});
    return res.end(gz);
  }
  res.writeHead(status, {...headers, 'content-length': Buffer.byteLength(text)});
  res.end(text);
}

function sendRaw(res, status, type, text) {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(text)});
  res.end(text);
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sleepPlain(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Standalone: node tests/support/fake-gemini.mjs [--port 9999] [--host 127.0.0.1] [--log] [--no-gzip]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const arg = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
  const fake = await startFakeGemini({port: Number(arg('--port', 9999)), host: arg('--host', '127.0.0.1'),
                                      log: argv.includes('--log'), gzip: !argv.includes('--no-gzip')});
  console.error(`fake-gemini listening on ${fake.url}`);
  const stop = () => fake.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
