// Low-level client helpers for the suites: raw TCP requests (for malformed HTTP, pipelining and
// keep-alive checks), a small HTTP/1.1 response parser, one request through node:http with a
// body streamed under backpressure (uploads), and stream readers that record when each SSE event
// or body chunk arrived (to prove a stream is forwarded incrementally).

import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

/**
 * Parses as many complete HTTP/1.1 responses as `buf` holds.
 * Returns {responses: [{status, reason, headers (lower-case names, arrays joined by ", "),
 * rawHead, body (Buffer, de-chunked), text, json?}], rest: Buffer, incomplete: boolean}.
 * `closed` says the peer closed, so a body without framing ends at the end of `buf`.
 */
export function parseResponses(buf, {closed = false} = {}) {
  const responses = [];
  let off = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const rawHead = buf.subarray(off, headEnd).toString('latin1');
    const [statusLine, ...hl] = rawHead.split('\r\n');
    const sm = statusLine.match(/^HTTP\/1\.[01] (\d{3})(?: (.*))?$/);
    if (!sm) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
    const headers = {};
    for (const l of hl) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase(), v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const status = Number(sm[1]);
    let p = headEnd + 4;
    let body;
    if (status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      let ok = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size in response');
        if (size === 0) {  // last chunk, then optional trailers, then an empty line
          let end = -1;
          if (buf.subarray(le + 2, le + 4).toString('latin1') === '\r\n') end = le + 4;
          else if (buf.indexOf('\r\n\r\n', le + 2) >= 0) end = buf.indexOf('\r\n\r\n', le + 2) + 4;
          if (end < 0) break;
          p = end;
          ok = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!ok) {
        if (closed) responses.push(mk(status, sm[2], headers, rawHead, Buffer.concat(parts), true));
        return {responses, rest: buf.subarray(off), incomplete: !closed};
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (p + n > buf.length) {
        if (closed) responses.push(mk(status, sm[2], headers, rawHead, buf.subarray(p), true));
        return {responses, rest: buf.subarray(off), incomplete: !closed};
      }
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      if (!closed) return {responses, rest: buf.subarray(off), incomplete: true};
      body = buf.subarray(p);
      p = buf.length;
    }
    responses.push(mk(status, sm[2], headers, rawHead, body, false));
    off = p;
  }
  return {responses, rest: buf.subarray(off), incomplete: off < buf.length};
}

function mk(status, reason, headers, rawHead, body, truncated) {
  const r = {status, reason, headers, rawHead, body, text: body.toString('utf8'), truncated};
  try { r.json = JSON.parse(r.text); } catch { /* not JSON */ }
  return r;
}

/**
 * Sends bytes over a fresh TCP connection and collects what comes back.
 * `data` is a string/Buffer, or an array of them written one by one `gapMs` apart.
 * Options: host (127.0.0.1), timeoutMs (5000) overall cap; responses: resolve once that many
 * final (non-1xx) responses are parsed, after waiting up to settleMs (0) more for a close;
 * halfClose: end our side after writing. Resolves to {text, raw, responses, closed, timedOut,
 * error, ms, writeError} — `closed` is true when the server closed or reset the connection.
 */
export function rawRequest(port, data, opts = {}) {
  const {host = '127.0.0.1', timeoutMs = 5000, responses: want = Infinity, settleMs = 0,
         gapMs = 0, halfClose = false} = opts;
  return new Promise((resolve) => {
    const t0 = Date.now();
    const chunks = [];
    let done = false, closed = false, error = null, writeError = null, settleTimer = null;
    const sock = net.connect({host, port});
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(settleTimer);
      const raw = Buffer.concat(chunks);
      let parsed;
      try { parsed = parseResponses(raw, {closed}); } catch (e) { parsed = {responses: [], parseError: String(e)}; }
      sock.destroy();
      resolve({text: raw.toString('latin1'), raw, responses: parsed.responses.filter((r) => r.status >= 200),
               parseError: parsed.parseError, closed, timedOut, error, writeError, ms: Date.now() - t0});
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      if (want === Infinity || settleTimer) return;
      let n = 0;
      try { n = parseResponses(Buffer.concat(chunks)).responses.filter((r) => r.status >= 200).length; } catch { /* wait */ }
      if (n >= want) {
        if (settleMs > 0) settleTimer = setTimeout(() => finish(false), settleMs);
        else finish(false);
      }
    });
    sock.on('end', () => { closed = true; finish(false); });
    sock.on('close', () => { closed = true; finish(false); });
    sock.on('error', (e) => { error = e.code || String(e); closed = true; finish(false); });
    sock.once('connect', async () => {
      const pieces = Array.isArray(data) ? data : [data];
      for (let i = 0; i < pieces.length && !done; i++) {
        if (i > 0 && gapMs) await new Promise((r) => setTimeout(r, gapMs));
        if (done || sock.destroyed) break;
        await new Promise((r) => sock.write(pieces[i], (e) => { if (e) writeError = e.code || String(e); r(); }));
      }
      if (halfClose && !done) sock.end();
    });
  });
}

/**
 * Deterministic body bytes: `size` bytes in pieces of `piece` bytes, the n-th piece filled with
 * the byte n % 251. A generator, so a large body is never whole in memory.
 */
export function* patternPieces(size, piece = 256 * 1024) {
  for (let sent = 0, n = 0; sent < size; n++) {
    const len = Math.min(piece, size - sent);
    sent += len;
    yield Buffer.alloc(len, n % 251);
  }
}

/**
 * One request through node:http on a fresh connection (no agent, no keep-alive).
 * `body` is a string or Buffer (sent with its Content-Length unless `chunked`), or an iterable
 * of Buffers written one by one under the socket's backpressure (set Content-Length in
 * `headers`, or leave it out to send chunked). `abortAfter`: destroy the request once that many
 * body bytes were written. Never rejects: resolves to {status, headers, text, json (null if not
 * JSON), sentSha256 (of the body bytes written)}, or {status: 0, error, sentSha256} when the
 * connection failed or was cut before the answer ended.
 */
export function httpRequest(port, method, urlPath, {body, headers = {}, chunked = false, abortAfter,
                                                    host = '127.0.0.1'} = {}) {
  const sent = crypto.createHash('sha256');
  const whole = typeof body === 'string' || Buffer.isBuffer(body);
  const h = {...headers};
  if (whole && !chunked) h['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r) => {
      if (settled) return;
      settled = true;
      resolve({...r, sentSha256: sent.digest('hex')});
    };
    const fail = (e) => settle({status: 0, error: e.code || String(e)});
    const req = http.request({host, port, path: urlPath, method, headers: h, agent: false});
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        settle({status: res.statusCode, headers: res.headers, text, json});
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    (async () => {
      let written = 0;
      for (const piece of body === undefined ? [] : whole ? [body] : body) {
        if (req.destroyed) return;
        if (abortAfter !== undefined && written >= abortAfter) {
          req.destroy();
          return;
        }
        written += piece.length;
        sent.update(piece);
        if (!req.write(piece)) {
          await new Promise((r) => {
            const done = () => { req.off('drain', done); req.off('close', done); r(); };
            req.on('drain', done).on('close', done);
          });
        }
      }
      req.end();
    })();
  });
}

/**
 * Reads a fetch Response body (or any async-iterable of bytes) and splits it into SSE events.
 * Returns {events: [{data, event?, id?, json?, at}], raw, chunks: [{text, at}], complete, error,
 * startedAt}. `at` is Date.now() when the event's last byte arrived; `complete` is false when
 * the stream broke (reset, abort) instead of ending normally. stopAfter: stop reading (and
 * cancel the body) after that many events.
 */
export async function sseEvents(response, {stopAfter = Infinity, onEvent} = {}) {
  const out = {events: [], raw: '', chunks: [], complete: false, error: null, startedAt: Date.now()};
  const decoder = new TextDecoder();
  let pending = '';
  const iter = bodyIterator(response);
  try {
    for await (const c of iter.it) {
      const text = decoder.decode(c, {stream: true});
      const at = Date.now();
      out.raw += text;
      out.chunks.push({text, at});
      pending += text;
      let m;
      while ((m = pending.match(/\r\n\r\n|\n\n|\r\r/)) !== null) {
        const block = pending.slice(0, m.index);
        pending = pending.slice(m.index + m[0].length);
        const ev = parseSseBlock(block, at);
        if (!ev) continue;
        out.events.push(ev);
        onEvent?.(ev, out);
        if (out.events.length >= stopAfter) {
          await iter.cancel();
          return out;
        }
      }
    }
    out.complete = true;
  } catch (e) {
    out.error = e.cause?.code || e.code || e.message || String(e);
  }
  return out;
}

function parseSseBlock(block, at) {
  const ev = {data: '', at};
  let hasData = false;
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') { ev.data += (hasData ? '\n' : '') + value; hasData = true; }
    else if (field === 'event' || field === 'id') ev[field] = value;
  }
  if (!hasData && !ev.event) return null;
  try { ev.json = JSON.parse(ev.data); } catch { /* not JSON */ }
  return ev;
}

/**
 * Reads a response body recording every chunk with its arrival time.
 * Returns {text, chunks: [{text, at}], complete, error, startedAt}.
 */
export async function timedBody(response) {
  const out = {text: '', chunks: [], complete: false, error: null, startedAt: Date.now()};
  const decoder = new TextDecoder();
  try {
    for await (const c of bodyIterator(response).it) {
      const text = decoder.decode(c, {stream: true});
      out.text += text;
      out.chunks.push({text, at: Date.now()});
    }
    out.complete = true;
  } catch (e) {
    out.error = e.cause?.code || e.code || e.message || String(e);
  }
  return out;
}

function bodyIterator(response) {
  if (response.body && typeof response.body.getReader === 'function') {
    const reader = response.body.getReader();
    return {
      it: (async function* () {
        for (;;) {
          const {value, done} = await reader.read();
          if (done) return;
          yield value;
        }
      })(),
      cancel: () => reader.cancel().catch(() => {}),
    };
  }
  return {it: response, cancel: async () => response.destroy?.()};
}

/** Resolves after ms milliseconds. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value; rejects with `what` after timeoutMs. */
export async function eventually(fn, {timeoutMs = 3000, intervalMs = 25, what = 'condition'} = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
    await sleep(intervalMs);
  }
}
