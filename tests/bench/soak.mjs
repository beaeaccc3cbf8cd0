// Soak: runs the real gemgate binary against the stand-in upstream with mixed traffic (native
// generateContent, SSE streams, OpenAI chat plain and streamed, models list, admin reads) at a
// steady rate, samples the gateway's VmRSS every few seconds and prints MiB over time and the
// slope after warm-up. A leak shows as a slope that stays positive; fragmentation levels off.
// Not a CTest test: timing and memory goals live in bench/, never in the suites.
//
//   node tests/bench/soak.mjs [--duration 300] [--rate 190] [--sample 10] [--warmup 60]
//                             [--workers 0] [--models 4] [--env MALLOC_ARENA_MAX=2]
//   --url http://127.0.0.1:PORT --attach PID  drives a gateway started by hand (e.g. under
//   heaptrack) instead; it must know client token "gg-soak-000000000000000000000000" and admin
//   token "gga-soak-admin-token-0123456789".
// GEMGATE_BIN picks the binary (default build/conf/gemgate). Loopback only.

import fs from 'node:fs';
import http from 'node:http';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startGateway, poolKey, DEFAULT_CONFIG} from '../support/gateway.mjs';

function args() {
  const o = {duration: 300, rate: 190, sample: 10, warmup: 60, workers: 0, models: 4, env: {},
             attach: 0};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const name = a[i].replace(/^--/, '');
    if (name === 'env') {
      const [k, ...v] = a[i + 1].split('=');
      o.env[k] = v.join('=');
    } else if (name === 'url') {
      o.url = a[i + 1];
    } else if (name in o) {
      o[name] = Number(a[i + 1]);
    } else {
      throw new Error(`unknown option ${a[i]}`);
    }
  }
  return o;
}

function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0, den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return num / den;
}

const o = args();
const agent = new http.Agent({keepAlive: true, maxSockets: 64});
const fake = await startFakeGemini({maxRecorded: 50});
const token = 'gg-soak-000000000000000000000000';
const adminToken = 'gga-soak-admin-token-0123456789';
let yaml = null;
if (o.workers) yaml = fs.readFileSync(DEFAULT_CONFIG, 'utf8').replace(/^workers: \d+/m, `workers: ${o.workers}`);
const gw = o.url ? {port: Number(new URL(o.url).port), dispose: async () => {}} : await startGateway({
  env: {API_KEYS: [poolKey('Valid'), poolKey('Valid'), poolKey('Valid')].join(','),
        ALLOWED_TOKENS: token, AUTH_TOKEN: adminToken, ...o.env},
  upstream: fake, configYaml: yaml ?? undefined,
});
const pid = o.url ? o.attach : gw.proc.pid;
const models = Array.from({length: Math.max(1, o.models)}, (_, i) =>
  i === 0 ? 'gemini-2.5-flash' : `gemini-soak-${i}`);

function send(method, path, headers, body) {
  return new Promise((resolve) => {
    const req = http.request({host: '127.0.0.1', port: gw.port, method, path, agent,
                              headers: {...headers, ...(body ? {'content-type': 'application/json'} : {})}},
                             (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    if (body) req.end(JSON.stringify(body)); else req.end();
  });
}

let seq = 0;
function one() {
  const i = seq++;
  const model = models[i % models.length];
  const native = {contents: [{role: 'user', parts: [{text: `soak ${i}`}]}]};
  const chat = (stream) => ({model, stream, messages: [{role: 'user', content: `soak ${i}`}]});
  const bearer = {authorization: `Bearer ${token}`};
  switch (i % 10) {
    case 0: case 1: case 2:
      return send('POST', `/v1beta/models/${model}:generateContent`, {'x-goog-api-key': token}, native);
    case 3: case 4:
      return send('POST', `/v1beta/models/${model}:streamGenerateContent?alt=sse`,
                  {'x-goog-api-key': token}, {contents: [{role: 'user', parts: [{text: `[[chunks=4 interval=5]] s ${i}`}]}]});
    case 5: case 6:
      return send('POST', '/v1/chat/completions', bearer, chat(false));
    case 7:
      return send('POST', '/v1/chat/completions', bearer, chat(true));
    case 8:
      return send('GET', '/v1beta/models', {'x-goog-api-key': token});
    default: {
      const admin = ['/admin/api/keys', '/admin/api/stats?window=1h', '/admin/api/logs?kind=request&per_page=20',
                     '/admin/api/session'][Math.floor(i / 10) % 4];
      return send('GET', admin, {authorization: `Bearer ${adminToken}`});
    }
  }
}

const t0 = Date.now();
const samples = [];  // [seconds, MiB]
const statuses = {};
let inFlight = 0, sent = 0, skipped = 0;
const sample = () => {
  const s = (Date.now() - t0) / 1000;
  const mib = rssKiB(pid) / 1024;
  samples.push([s, mib]);
  console.log(`t=${s.toFixed(0).padStart(5)}s  rss=${mib.toFixed(2).padStart(7)} MiB  sent=${sent}  ` +
              `in_flight=${inFlight}  statuses=${JSON.stringify(statuses)}`);
};
sample();
const sampler = setInterval(sample, o.sample * 1000);
// Open-loop pacing: `rate` requests a second in 10 ms ticks, skipped (and counted) when 256 are
// already waiting, so a slow gateway is visible instead of hidden by a closed loop.
let owed = 0;
const pacer = setInterval(() => {
  owed += o.rate / 100;
  while (owed >= 1) {
    owed--;
    if (inFlight >= 256) { skipped++; continue; }
    inFlight++;
    sent++;
    one().then((st) => { statuses[st] = (statuses[st] || 0) + 1; inFlight--; });
  }
}, 10);

await new Promise((r) => setTimeout(r, o.duration * 1000));
clearInterval(pacer);
clearInterval(sampler);
while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
sample();
const after = samples.filter(([s]) => s >= o.warmup);
const perMin = slope(after) * 60;
const elapsed = (Date.now() - t0) / 1000;
console.log(`\nrequests: ${sent} in ${elapsed.toFixed(0)} s (${(sent / elapsed).toFixed(0)}/s), ` +
            `skipped ${skipped}; statuses ${JSON.stringify(statuses)}`);
console.log(`rss: start ${samples[0][1].toFixed(2)} MiB, end ${samples.at(-1)[1].toFixed(2)} MiB; ` +
            `slope after ${o.warmup} s: ${(perMin * 1024).toFixed(0)} KiB/min ` +
            `(${((perMin * 1024 * 1024) / (o.rate * 60)).toFixed(1)} bytes/request)`);
agent.destroy();
await gw.dispose();
await fake.close();
