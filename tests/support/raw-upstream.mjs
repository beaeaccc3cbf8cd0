// A byte-exact upstream over node:net for the attack suites: each request is parsed (head and a
// Content-Length body) and answered with the bytes `up.script(req)` returns, written piece by
// piece with Nagle off and `gapMs` between pieces, so that the gateway meets them in separate
// reads (chunk framing, event boundaries and header blocks split where the test says). Nothing
// here touches the internet. Not a test file itself.
//
//   const up = await startRawUpstream();
//   up.script = (req) => ({pieces: [Buffer, ...], gapMs: 2, close: false});
//   ... GOOGLE_API_HOST = up.url ...
//   up.seen  → [{method, target, headers, body}]

import net from 'node:net';

/** Starts the server on 127.0.0.1:0; resolves to {url, port, seen, script, close()}. */
export async function startRawUpstream() {
  const up = {seen: [], script: null, sockets: new Set()};
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    up.sockets.add(sock);
    sock.on('close', () => up.sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = async () => {
      if (busy) return;
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
      const [method, target] = head[0].split(' ');
      const headers = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] || 0);
      if (buf.length < headEnd + 4 + length) return;
      const body = buf.subarray(headEnd + 4, headEnd + 4 + length);
      buf = buf.subarray(headEnd + 4 + length);
      const req = {method, target, headers, body};
      up.seen.push(req);
      busy = true;
      const answer = up.script(req);
      for (const [i, piece] of answer.pieces.entries()) {
        if (sock.destroyed) return;
        if (i > 0 && answer.gapMs) await new Promise((r) => setTimeout(r, answer.gapMs));
        await new Promise((r) => sock.write(piece, r));
      }
      busy = false;
      if (answer.close) sock.end();
      else next();
    };
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      next();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  up.port = server.address().port;
  up.url = `http://127.0.0.1:${up.port}`;
  up.close = () => new Promise((r) => {
    for (const s of up.sockets) s.destroy();
    server.close(() => r());
  });
  return up;
}

/** `body` (Buffer) as HTTP/1.1 chunked framing in chunks of `size` bytes, with the last chunk. */
export function chunked(body, size = 1 << 30) {
  const parts = [];
  for (let i = 0; i < body.length; i += size) {
    const c = body.subarray(i, i + size);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** A response head: status, headers ([name, value] pairs) → Buffer. */
export function head(status, headers) {
  return Buffer.from(`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Error'}\r\n` +
                     headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
}

/** `buf` cut at the given offsets (sorted, within the buffer) → pieces. */
export function cutAt(buf, offsets) {
  const out = [];
  let from = 0;
  for (const o of offsets) {
    if (o > from && o < buf.length) {
      out.push(buf.subarray(from, o));
      from = o;
    }
  }
  out.push(buf.subarray(from));
  return out;
}
