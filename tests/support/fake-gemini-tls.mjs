// The stand-in upstream over TLS + HTTP/2, as Google serves its API: `startFakeGemini({tls: true})`
// (fake-gemini.mjs) calls createTlsServer() here instead of node:http. Node's standard library
// only: http2.createSecureServer({allowHTTP1: true}) negotiates h2 or http/1.1 by ALPN and hands
// the same request handler the compat req/res objects. The certificate is made per run by
// Debian's `openssl` into a temp dir (removed on close); the gateway trusts it through
// GEMGATE_UPSTREAM_CA_FILE (the handle's `caFile`; tests/support/gateway.mjs passes it on).
//
// Every connection is numbered (an HTTP/2 session, or an HTTP/1.1-over-TLS socket), so tests can
// assert on what they share: connectionOf(req) → {httpVersion, session}; sessions() →
// [{id, httpVersion, streams, maxConcurrent, closed}] (maxConcurrent: the most streams the
// session carried at once — above 1 means libcurl multiplexed). goaway() sends GOAWAY on every
// open session and closes it; dropSessions() closes their connections without a word (a dead
// peer); resetStream(req) answers one stream with RST_STREAM. h2Faults(server) acts on one
// session with streams in flight, as a failing HTTP/2 server would: GOAWAY with any code and
// last-stream-id, RST_STREAM with any code on every open stream, a TCP reset, garbage in place of
// a TLS record, a session that stops reading (hung), SETTINGS lowering MAX_CONCURRENT_STREAMS.

import http2 from 'node:http2';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {execFileSync} from 'node:child_process';

/**
 * Writes a self-signed certificate for localhost and 127.0.0.1 into a new temp dir.
 * Returns {dir, keyFile, certFile, key, cert}; throws with openssl's output when it fails.
 */
export function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-gemini-tls-'));
  const keyFile = path.join(dir, 'upstream.key');
  const certFile = path.join(dir, 'upstream.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                           '-nodes', '-days', '2', '-subj', '/CN=localhost',
                           '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                           '-keyout', keyFile, '-out', certFile], {stdio: ['ignore', 'ignore', 'pipe']});
  return {dir, keyFile, certFile, key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile)};
}

/**
 * Creates (does not listen) the TLS server calling handler(req, res) for every request, h2 or
 * HTTP/1.1. Returns {server, caFile, sessions(), goaway(), dropSessions(), close()}; close() destroys every
 * session and removes the certificate dir.
 */
export function createTlsServer(handler) {
  const cert = makeCertificate();
  const server = http2.createSecureServer({key: cert.key, cert: cert.cert, allowHTTP1: true},
                                          handler);
  const infos = [];  // per connection, in order of arrival
  const open = new Set();
  const raw = new Map();  // client port → the TCP socket under a TLS connection (for h2Faults)
  server.on('connection', (tcp) => {
    const port = tcp.remotePort;
    raw.set(port, tcp);
    tcp.once('close', () => { if (raw.get(port) === tcp) raw.delete(port); });
  });
  const live = new Map();  // open Http2Session → Set of its open streams
  const sockets = new Set();  // every TLS connection, h2 or not
  faults.set(server, {live, raw, sockets});
  server.on('session', (session) => {
    const info = {id: infos.length + 1, httpVersion: '2.0', streams: 0, active: 0,
                  maxConcurrent: 0, closed: false};
    infos.push(info);
    ids.set(session, info);
    open.add(session);
    const streams = new Set();
    live.set(session, streams);
    session.once('close', () => live.delete(session));
    session.on('stream', (stream) => {
      info.streams++;
      info.maxConcurrent = Math.max(info.maxConcurrent, ++info.active);
      streams.add(stream);
      stream.once('close', () => { info.active--; streams.delete(stream); });
    });
    session.once('close', () => { info.closed = true; open.delete(session); });
    session.on('error', () => {});
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (socket.alpnProtocol === 'h2') return;  // counted as its session
    const info = {id: infos.length + 1, httpVersion: '1.1', streams: 0, active: 0,
                  maxConcurrent: 1, closed: false};
    infos.push(info);
    ids.set(socket, info);
    socket.once('close', () => { info.closed = true; });
  });
  return {
    server, caFile: cert.certFile,
    sessions: () => infos.map(({active, ...rest}) => ({...rest})),
    goaway() {
      for (const s of open) {
        s.goaway(http2.constants.NGHTTP2_NO_ERROR);
        s.close();
      }
    },
    dropSessions() {
      for (const s of sockets) s.destroy();  // under the sessions: no GOAWAY goes out
    },
    close() {
      for (const s of open) s.destroy();
      fs.rmSync(cert.dir, {recursive: true, force: true});
    },
  };
}

const ids = new WeakMap();  // Http2Session or TLS socket → its info
const faults = new WeakMap();  // server → {live: Map(session → Set(stream)), raw: Map(port → TCP socket)}

/**
 * Fault injection on the server made by createTlsServer (fake.server). Every action takes the
 * open HTTP/2 session with the most open streams (the one the test's requests share):
 *   openStreams()            streams open on that session (0 when there is none)
 *   streamIds()              their ids, ascending
 *   sessionId()              its number, as in sessions() and connectionOf()
 *   goaway(code, lastId)     GOAWAY(code, last-stream-id); streams up to lastId may still finish
 *   resetStreams(code)       RST_STREAM(code) on each open stream; the session goes on
 *   tcpReset()               RST on the TCP connection, no TLS close_notify, no GOAWAY
 *   tlsGarbage()             bytes that are no TLS record, then FIN: the client's TLS fails
 *   hang()                   the session stops reading (no PING or SETTINGS ack, no new stream
 *                            seen; what the handler writes stays queued); the socket stays open
 *   unhang()                 the hung sessions read again, and so see what the client sent
 *                            meanwhile (its end of the connection included)
 *   settings(maxStreams)     SETTINGS with MAX_CONCURRENT_STREAMS = maxStreams
 * Throws when there is no open session.
 */
export function h2Faults(server) {
  const {live, raw, sockets} = faults.get(server);
  const busiest = () => {
    let best = null;
    for (const [session, streams] of live) {
      if (!session.closed && !session.destroyed && (!best || streams.size > best[1].size)) {
        best = [session, streams];
      }
    }
    return best;
  };
  const need = () => {
    const b = busiest();
    if (!b) throw new Error('h2Faults: no open HTTP/2 session');
    return b;
  };
  const tcpOf = (session) => raw.get(session.socket.remotePort);
  const hung = [];
  return {
    openStreams: () => busiest()?.[1].size ?? 0,
    streamIds: () => [...(busiest()?.[1] ?? [])].map((st) => st.id).sort((a, b) => a - b),
    sessionId: () => ids.get(need()[0])?.id ?? 0,
    goaway(code, lastId) {
      need()[0].goaway(code, lastId);
    },
    resetStreams(code) {
      for (const st of [...need()[1]]) st.close(code);
    },
    tcpReset() {
      const [session] = need();
      tcpOf(session).resetAndDestroy();
      session.destroy();
    },
    tlsGarbage() {
      const [session] = need();
      const tcp = tcpOf(session);
      tcp._handle.writeLatin1String?.({oncomplete() {}}, 'garbage, no TLS record'.repeat(4));
      tcp.end();
      session.destroy();
    },
    hang() {
      const tcp = tcpOf(need()[0]);
      const tlsSocket = [...sockets].find((x) => x.remotePort === tcp.remotePort);
      tlsSocket._handle.readStop();  // the session reads straight from this handle
      hung.push(tlsSocket);
    },
    unhang() {
      for (const tlsSocket of hung.splice(0)) tlsSocket._handle?.readStart();
    },
    settings(maxStreams) {
      need()[0].settings({maxConcurrentStreams: maxStreams});
    },
  };
}

/** {httpVersion, session} of a request of a TLS fake ({httpVersion, session: 0} otherwise). */
export function connectionOf(req) {
  const owner = req.stream ? req.stream.session : req.socket;
  return {httpVersion: req.httpVersion, session: ids.get(owner)?.id ?? 0};
}

/** "scheme://host[:port]" the request named (HTTP/2 names it in :authority, not Host). */
export function originOf(req) {
  const scheme = req.socket?.encrypted ? 'https' : 'http';
  return `${scheme}://${req.headers.host || req.headers[':authority']}`;
}

/**
 * On HTTP/2, ends this request's stream with RST_STREAM (INTERNAL_ERROR) and returns true; the
 * session and its other streams go on. Returns false for HTTP/1.1 (the caller resets the socket).
 */
export function resetStream(req) {
  if (!req.stream) return false;
  req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  return true;
}
