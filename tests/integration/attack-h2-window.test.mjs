// Round 6's 1 MiB cap on each HTTP/2 stream's window (transports/h2_window.*) as clients that stop
// reading see it, over the TLS + HTTP/2 stand-in (fake-gemini-tls.mjs). Ten clients stop reading
// 1.6 MB streams at once on the same sessions: the gateway's memory stays bounded (no stream's
// answer piles up in it), other streams on those sessions keep flowing, and after a long pause
// every client gets every event of its stream, in order.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startFakeGemini} from '../support/fake-gemini.mjs';
import {startStack} from '../support/stack.mjs';
import {genBody, parseResponses, sseEvents, streamGenerate, eventually, sleep} from '../support/gateway.mjs';
import {connect, cap} from '../support/hostile-client.mjs';

let fake;
before(async () => { fake = await startFakeGemini({tls: true}); });
after(async () => { await fake.close(); });

function rssBytes(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}

// ~1.6 MB per stream: over the 1 MiB window, under what the stand-in holds per session before it
// refuses streams (Node's maxSessionMemory, 10 MB, even with all ten on one session: transports/README).
const CHUNKS = 200, PAD = 8000;

function streamRequest(s, tag) {
  const body = JSON.stringify(genBody(`${tag} [[chunks=${CHUNKS} pad=${PAD} interval=0]]`));
  return `POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1\r\nHost: gw\r\n` +
         `x-goog-api-key: ${s.token}\r\ncontent-type: application/json\r\n` +
         `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** The texts of an SSE body's events (de-chunked bytes). */
function eventTexts(body) {
  return body.toString('utf8').split(/\r?\n\r?\n/).filter((e) => e.startsWith('data: '))
             .map((e) => JSON.parse(e.slice(6)).candidates[0].content.parts.map((p) => p.text).join(''));
}

test('ten clients stop reading 1.6 MB streams at once: memory bounded, others flow, every byte in order after the pause', async (t) => {
  const s = await startStack({fake});
  t.after(() => s.close());
  // Warm: sessions open, allocator warm.
  for (let i = 0; i < 3; i++) {
    const ev = await sseEvents(await streamGenerate(s.gw, `warm ${i} [[chunks=50 pad=${PAD} interval=0]]`, {token: s.token}));
    assert.equal(ev.events.length, 50);
  }
  const rss0 = rssBytes(s.gw.proc.pid);
  const slow = [];
  for (let i = 0; i < 10; i++) {
    const sock = await connect(s.gw.port);
    sock.pause();  // reads nothing until resumed
    sock.write(streamRequest(s, `slow ${i}`));
    slow.push(sock);
  }
  await sleep(1500);
  // Other streams on the same upstream sessions flow meanwhile.
  for (let i = 0; i < 4; i++) {
    const ev = await sseEvents(await streamGenerate(s.gw, `flow ${i} [[chunks=100 pad=${PAD} interval=0]]`, {token: s.token}));
    assert.ok(ev.complete && ev.events.length === 100, `stream ${i} flows while ten are held (${ev.events.length})`);
  }
  await sleep(3000);  // the long pause
  const held = rssBytes(s.gw.proc.pid) - rss0;
  t.diagnostic(`RSS growth with ten 1.6 MB streams held: ${(held / 1048576).toFixed(1)} MiB`);
  const sessions = fake.sessions().filter((x) => !x.closed);
  t.diagnostic(`upstream sessions open: ${sessions.length} (${sessions.map((x) => x.streams).join(',')} streams)`);
  assert.ok(held < 20 * 1048576, `memory stays bounded: grew ${(held / 1048576).toFixed(1)} MiB for 16 MB held upstream`);
  // Resume: each client gets its whole stream, in order.
  for (const sock of slow) sock.resume();
  await Promise.all(slow.map((sock) => Promise.race([sock.gone, cap(120000)])));
  for (const [i, sock] of slow.entries()) {
    const res = parseResponses(Buffer.concat(sock.chunks), {closed: true}).responses[0];
    assert.equal(res?.status, 200, `client ${i}: ${res?.text.slice(0, 300)}\n${s.gw.logs().split("\n").filter((l) => / 503 |WARN|ERROR/.test(l)).slice(-5).join("\n")}`);
    const texts = eventTexts(res.body);
    assert.equal(texts.length, CHUNKS, `client ${i}: every event (${texts.length})`);
    assert.ok(texts[0].startsWith(`echo: slow ${i}`), `client ${i}: its own stream`);
    for (let k = 1; k < texts.length; k++) {
      if (!texts[k].startsWith(` #${k}`) || texts[k].length !== ` #${k}`.length + PAD) {
        assert.fail(`client ${i}: event ${k} out of order or cut: ${JSON.stringify(texts[k].slice(0, 20))}`);
      }
    }
  }
  // And the gateway is fine afterwards.
  const ev = await sseEvents(await streamGenerate(s.gw, 'after [[chunks=3 interval=0]]', {token: s.token}));
  assert.equal(ev.events.length, 3);
});
