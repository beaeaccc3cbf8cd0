// Operators behind a firewall: with the upstream_proxy setting empty, gemgate sends upstream
// calls through the proxy the environment names (HTTP_PROXY for an http:// upstream, as here;
// HTTPS_PROXY for https://), honours NO_PROXY, says so once at start with the password masked;
// an upstream_proxy setting wins over the environment. The proxy is a small loopback forward
// proxy this test runs (plain HTTP: absolute-form request targets).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {generate} from '../support/gateway.mjs';

/** A forward proxy on 127.0.0.1: records each request, then passes it on. */
async function startProxy() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({url: req.url, auth: req.headers['proxy-authorization'] || null});
    let target;
    try { target = new URL(req.url); } catch {
      res.writeHead(400).end('absolute-form target expected');
      return;
    }
    const headers = {...req.headers};
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request({host: target.hostname, port: target.port, method: req.method,
                             path: target.pathname + target.search, headers}, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {seen, port, url: `http://127.0.0.1:${port}`,
          close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); })};
}

let fake, proxy, other;
before(async () => {
  fake = await startFakeGemini();
  proxy = await startProxy();
  other = await startProxy();
});
after(async () => {
  await fake.close();
  await proxy.close();
  await other.close();
});

// The harness exempts 127.0.0.1 through NO_PROXY; these tests decide it themselves.
const noExemption = {NO_PROXY: '', no_proxy: ''};

test('HTTP_PROXY from the environment carries upstream calls; the start log masks its password', async (t) => {
  proxy.seen.length = 0;
  const password = 'proxy-pass-0123456789';
  const s = await startStack({fake, env: {...noExemption,
                                          HTTP_PROXY: `http://gg:${password}@127.0.0.1:${proxy.port}`}});
  t.after(() => s.close());
  const r = await generate(s.gw, 'through the proxy', {token: s.token});
  assert.equal(r.status, 200, r.text);
  const calls = proxy.seen.filter((c) => c.url.includes(':generateContent'));
  assert.equal(calls.length, 1, JSON.stringify(proxy.seen));
  assert.equal(calls[0].url, `${fake.url}/v1beta/models/gemini-2.5-flash:generateContent`);
  assert.equal(calls[0].auth, `Basic ${Buffer.from(`gg:${password}`).toString('base64')}`);
  assert.match(s.gw.logs(), new RegExp(
      `upstream proxy from the environment \\(upstream_proxy is empty\\): https:// direct, ` +
      `http:// via http://gg:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port}`));
  assert.ok(!s.gw.logs().includes(password), 'the proxy password is not logged');
});

test('NO_PROXY exempts the upstream host; HTTPS_PROXY does not apply to an http:// upstream', async (t) => {
  proxy.seen.length = 0;
  const s = await startStack({fake, env: {HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1', no_proxy: ''}});
  t.after(() => s.close());
  assert.equal((await generate(s.gw, 'exempt', {token: s.token})).status, 200);
  assert.equal(proxy.seen.length, 0, 'NO_PROXY kept the call direct');
  await s.close();

  const h = await startStack({fake, env: {...noExemption, HTTPS_PROXY: proxy.url}});
  t.after(() => h.close());
  assert.equal((await generate(h.gw, 'https proxy only', {token: h.token})).status, 200);
  assert.equal(proxy.seen.length, 0, 'HTTPS_PROXY is for https:// upstreams only');
});

test('the upstream_proxy setting wins over the environment', async (t) => {
  proxy.seen.length = 0;
  other.seen.length = 0;
  const s = await startStack({fake, env: {...noExemption, HTTP_PROXY: proxy.url},
                              settings: {upstream_proxy: other.url}});
  t.after(() => s.close());
  assert.equal((await generate(s.gw, 'setting wins', {token: s.token})).status, 200);
  assert.equal(proxy.seen.length, 0, 'the environment proxy was not used');
  assert.ok(other.seen.some((c) => c.url.includes(':generateContent')), 'the configured one was');
  assert.match(s.gw.logs(), /upstream proxy: http:\/\/127\.0\.0\.1:\d+ \(the upstream_proxy setting/);
});
