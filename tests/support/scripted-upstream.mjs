// A scripted upstream for the streamed-body and "streaming everywhere" suites: a plain HTTP
// server whose behaviour per request is set by the test (`up.script = (req, res, info) => …`),
// plus helpers that read a body slowly or count it. Every request is recorded in `up.seen`
// ({method, url, key, headers, bytes, complete, aborted}). Nothing here touches the internet.

import http from 'node:http';
import crypto from 'node:crypto';

export async function startScriptedUpstream() {
  const up = {seen: [], script: null};
  const server = http.createServer((req, res) => {
    const info = {method: req.method, url: req.url, key: req.headers['x-goog-api-key'] || '',
                  headers: req.headers, bytes: 0, complete: false, aborted: false};
    up.seen.push(info);
    req.on('aborted', () => { info.aborted = true; });
    req.on('close', () => { if (!info.complete) info.aborted = true; });
    const script = up.script || drainAndAnswer();
    script(req, res, info);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  up.url = `http://127.0.0.1:${server.address().port}`;
  up.close = () => new Promise((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  });
  return up;
}

// Reads the whole body (optionally slowly: `pauseMs` after every `everyBytes`), then answers 200
// with {bytes, sha256} as JSON.
export function drainAndAnswer({pauseMs = 0, everyBytes = 256 * 1024, status = 200} = {}) {
  return (req, res, info) => {
    const hash = crypto.createHash('sha256');
    let sinceBreak = 0;
    req.on('data', (chunk) => {
      info.bytes += chunk.length;
      hash.update(chunk);
      sinceBreak += chunk.length;
      if (pauseMs && sinceBreak >= everyBytes) {
        sinceBreak = 0;
        req.pause();
        setTimeout(() => req.resume(), pauseMs);
      }
    });
    req.on('end', () => {
      info.complete = true;
      const body = JSON.stringify({bytes: info.bytes, sha256: hash.digest('hex')});
      res.writeHead(status, {'content-type': 'application/json'});
      res.end(body);
    });
  };
}

// Answers at once, without reading the body.
export function answerAtOnce(status, json) {
  return (req, res) => {
    res.writeHead(status, {'content-type': 'application/json'});
    res.end(JSON.stringify(json));
  };
}

// Reads `bytes` of the body, then kills the connection.
export function dieAfter(bytes) {
  return (req, res, info) => {
    req.on('data', (chunk) => {
      info.bytes += chunk.length;
      if (info.bytes >= bytes) req.socket.destroy();
    });
  };
}

// An SSE answer: `events` (objects) sent `gapMs` apart; counts what the client side read.
export function sseAnswer(events, {gapMs = 20} = {}) {
  return (req, res, info) => {
    req.resume();
    req.on('end', () => { info.complete = true; });
    res.writeHead(200, {'content-type': 'text/event-stream'});
    let i = 0;
    const next = () => {
      if (i >= events.length) return res.end();
      res.write(`data: ${JSON.stringify(events[i++])}\n\n`);
      setTimeout(next, gapMs);
    };
    next();
  };
}
