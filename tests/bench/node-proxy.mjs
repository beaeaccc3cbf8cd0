// A minimal Node.js gateway doing the same job as gemgate's native route, for the benchmark
// baseline: check a client token, swap in a pool key (round-robin), forward to the upstream,
// stream the answer back. No retries, no storage: a lower bound on what a Node gateway costs.
import http from 'node:http';

const [port, upstream, token, ...keys] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(upstream);
let next = 0;

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const presented = url.searchParams.get('key') ?? req.headers['x-goog-api-key'];
    if (presented !== token) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":401,"message":"bad token","status":"UNAUTHENTICATED"}}');
      return;
    }
    url.searchParams.delete('key');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: url.pathname + url.search,
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-goog-api-key': keys[next++ % keys.length],
          },
        },
        (ur) => {
          res.writeHead(ur.statusCode, { 'content-type': ur.headers['content-type'] ?? 'application/json' });
          ur.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  })
  .listen(Number(port), '127.0.0.1');
