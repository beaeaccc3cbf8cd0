// Slow streams for tests/bench/compare.sh: thousands of concurrent SSE answers that each trickle
// one chunk every few milliseconds, like a model writing.
//
//   node slow-streams.mjs upstream PORT INTERVAL_MS CHUNKS
//     an HTTP server: every request gets a 200 text/event-stream answer (chunked) with CHUNKS
//     Gemini-shaped `data:` events, one every INTERVAL_MS (one timer walks all open streams).
//   node slow-streams.mjs client HOST:PORT PATH STREAMS CHUNKS
//     opens STREAMS connections (in batches, so the listen backlog never overflows), POSTs one
//     streaming request on each and counts the `data:` events received. Prints one JSON line:
//     {"streams","completed","chunks","errors","seconds"}; completed = streams that got all
//     CHUNKS events and the end of the chunked body. SLOW_PROMPT_BYTES (env) sizes the prompt.
import http from 'node:http';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);

function event(i, last) {
  const usage = last
    ? ',"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":' + (i + 1) + ',"totalTokenCount":' + (i + 6) + '}'
    : '';
  return 'data: {"candidates":[{"content":{"parts":[{"text":"token ' + i + ' "}],"role":"model"}' +
    (last ? ',"finishReason":"STOP"' : '') + ',"index":0}]' + usage + ',"modelVersion":"gemini-2.5-flash"}\r\n\r\n';
}

function upstream(port, intervalMs, chunks) {
  const open = new Set();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      open.add({ res, sent: 0 });
    });
  });
  server.maxConnections = 100000;
  server.keepAliveTimeout = 60000;
  server.listen(port, '127.0.0.1', 65535);
  setInterval(() => {
    for (const s of open) {
      const last = s.sent === chunks - 1;
      s.res.write(event(s.sent, last));
      s.sent++;
      if (last) {
        s.res.end();
        open.delete(s);
      }
    }
  }, intervalMs);
}

function client(hostPort, path, streams, chunks) {
  const [host, port] = hostPort.split(':');
  // SLOW_PROMPT_BYTES pads the prompt to about that size (a coding agent's context is often
  // 50-500 KB): what a proxy keeps of each request while its answer streams.
  const pad = Math.max(0, Number(process.env.SLOW_PROMPT_BYTES || 0) - 64);
  const body = '{"contents":[{"role":"user","parts":[{"text":"Write slowly' + 'x'.repeat(pad) + '"}]}]}';
  const request =
    `POST ${path} HTTP/1.1\r\nHost: ${hostPort}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  const started = Date.now();
  let opened = 0, finished = 0, completed = 0, chunksSeen = 0, errors = 0;
  const done = () => {
    finished++;
    if (finished === streams) {
      const seconds = (Date.now() - started) / 1000;
      console.log(JSON.stringify({ streams, completed, chunks: chunksSeen, errors, seconds }));
      process.exit(0);
    }
  };
  const openOne = () => {
    opened++;
    const sock = net.connect(Number(port), host);
    // The answer is chunked: events are counted in the de-chunked body, since a proxy's chunk
    // framing may fall anywhere, even inside 'data: '.
    let raw = '', inHead = true, chunkLeft = 0, tail = '', seen = 0, ended = false, closed = false;
    const body = (piece) => {
      const text = tail + piece;
      let at = text.indexOf('data: ');
      while (at !== -1) {
        seen++;
        at = text.indexOf('data: ', at + 6);
      }
      tail = text.slice(-5);  // shorter than 'data: ': a match split across pieces is found once
    };
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      raw += d;
      for (;;) {
        if (inHead) {
          const end = raw.indexOf('\r\n\r\n');
          if (end < 0) return;
          raw = raw.slice(end + 4);
          inHead = false;
        } else if (chunkLeft > 0) {
          const piece = raw.slice(0, chunkLeft);
          body(piece);
          chunkLeft -= piece.length;
          raw = raw.slice(piece.length);
          if (chunkLeft > 0) return;
          chunkLeft = -2;  // the CRLF after the chunk's data
        } else if (chunkLeft < 0) {
          if (raw.length < 2) return;
          raw = raw.slice(2);
          chunkLeft = 0;
        } else {
          const le = raw.indexOf('\r\n');
          if (le < 0) return;
          const size = parseInt(raw.slice(0, le), 16);
          raw = raw.slice(le + 2);
          if (size === 0) {
            ended = true;
            sock.end();
            return;
          }
          chunkLeft = size;
        }
      }
    });
    const finish = (bad) => {
      if (closed) return;
      closed = true;
      chunksSeen += seen;
      if (seen === chunks && ended && !bad) completed++;
      else errors++;
      done();
    };
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(false));
  };
  const batch = () => {
    for (let i = 0; i < 250 && opened < streams; i++) openOne();
    if (opened < streams) setTimeout(batch, 20);
  };
  batch();
}

if (mode === 'upstream') upstream(Number(args[0]), Number(args[1]), Number(args[2]));
else if (mode === 'client') client(args[0], args[1], Number(args[2]), Number(args[3]));
else {
  console.error('usage: slow-streams.mjs upstream PORT INTERVAL_MS CHUNKS | client HOST:PORT PATH STREAMS CHUNKS');
  process.exit(2);
}
