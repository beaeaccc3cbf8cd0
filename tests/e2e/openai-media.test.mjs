// End to end with the official OpenAI Node SDK: images and speech through gemgate.
// images.generate → Imagen :predict (OpenAI's own model names, via the openai_image_model
// setting) or a Gemini image model's generateContent (one call per image); audio.speech.create →
// a Gemini TTS model, whose 24 kHz PCM comes back as wav (our RIFF header) or raw pcm; chat with
// modalities ["audio"] and with images in the answer; native :predict / :predictLongRunning
// passing through. Needs `npm ci` in tests/.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {openaiStack, loadOpenAI, sdkRejects, assertOpenAIErrorShape, collect, recordingFetch}
  from './openai-support.mjs';
import {call} from '../support/gateway.mjs';
import {readFakeImage, fakePcm, PCM_RATE} from '../support/fake-gemini-media.mjs';

let OpenAI, s;
before(async () => {
  OpenAI = await loadOpenAI();
  s = await openaiStack();
});
after(async () => { await s?.close(); });
beforeEach(() => s.fake.reset());

const IMAGEN = 'imagen-4.0-generate-001';
const GEMINI_IMAGE = 'gemini-2.5-flash-image';
const TTS = 'gemini-2.5-flash-preview-tts';

/** The fields of a RIFF/WAVE file with a 44-byte header. */
function readWav(buf) {
  assert.equal(buf.subarray(0, 4).toString('latin1'), 'RIFF');
  assert.equal(buf.subarray(8, 16).toString('latin1'), 'WAVEfmt ');
  assert.equal(buf.readUInt32LE(4), buf.length - 8, 'RIFF size');
  assert.equal(buf.readUInt16LE(20), 1, 'PCM');
  assert.equal(buf.subarray(36, 40).toString('latin1'), 'data');
  assert.equal(buf.readUInt32LE(40), buf.length - 44, 'data size');
  return {channels: buf.readUInt16LE(22), rate: buf.readUInt32LE(24), byteRate: buf.readUInt32LE(28),
          bits: buf.readUInt16LE(34), pcm: buf.subarray(44)};
}

test('images.generate with dall-e-3 → one Imagen :predict (sampleCount n, aspect ratio from size), b64 images back',
     async () => {
  const m = s.mark();
  const r = await s.client().images.generate({model: 'dall-e-3', prompt: 'a red fox in snow', n: 2,
                                              size: '1792x1024', response_format: 'b64_json'});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${IMAGEN}:predict`);
  assert.deepEqual(rec.json, {instances: [{prompt: 'a red fox in snow'}],
                              parameters: {sampleCount: 2, aspectRatio: '16:9'}});
  assert.equal(typeof r.created, 'number');
  assert.equal(r.data.length, 2);
  r.data.forEach((img, i) => {
    assert.deepEqual(readFakeImage(img.b64_json),
                     {model: IMAGEN, ratio: '16:9', size: '1K', index: i, prompt: 'a red fox in snow'});
  });
  assert.equal(r.output_format, 'png');
});

test('images.generate without model, quality hd and jpeg → Imagen 2K jpeg', async () => {
  const m = s.mark();
  const r = await s.client().images.generate({prompt: 'a lighthouse', quality: 'hd', size: '1024x1024',
                                              output_format: 'jpeg', output_compression: 80});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${IMAGEN}:predict`);
  assert.deepEqual(rec.json.parameters, {sampleCount: 1, aspectRatio: '1:1', sampleImageSize: '2K',
                                         outputOptions: {mimeType: 'image/jpeg', compressionQuality: 80}});
  assert.equal(r.data.length, 1);
  assert.equal(readFakeImage(r.data[0].b64_json).size, '2K');
  assert.equal(r.output_format, 'jpeg');
});

test('images.generate with a Gemini image model → one generateContent per image, usage summed',
     async () => {
  const m = s.mark();
  const r = await s.client().images.generate({model: GEMINI_IMAGE, prompt: 'a blue bird', n: 2,
                                              size: '1536x1024'});
  const recs = s.upstreamSince(m);
  assert.equal(recs.length, 2);
  for (const rec of recs) {
    assert.equal(rec.path, `/v1beta/models/${GEMINI_IMAGE}:generateContent`);
    const body = JSON.parse(rec.body);
    assert.deepEqual(body.generationConfig, {responseModalities: ['TEXT', 'IMAGE'],
                                             imageConfig: {aspectRatio: '3:2'}});
    assert.equal(body.contents[0].parts[0].text, 'a blue bird');
  }
  assert.equal(r.data.length, 2);
  for (const img of r.data) assert.equal(readFakeImage(img.b64_json).ratio, '3:2');
  assert.equal(r.usage.output_tokens, 2 * 1290);
  assert.ok(r.usage.input_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
});

test('images.generate refusals are OpenAI 400s naming the parameter, and nothing goes upstream',
     async () => {
  const c = s.client();
  const cases = [
    [{prompt: 'x', response_format: 'url'}, 'response_format', /does not host images/],
    [{prompt: 'x', size: '1536x1024'}, 'size', /1024x1024/],
    [{prompt: 'x', n: 5}, 'n', /1\.\.4/],
    [{prompt: 'x', style: 'vivid'}, 'style', /style/],
    [{prompt: 'x', background: 'transparent'}, 'background', /transparent/],
    [{prompt: 'x', output_format: 'webp'}, 'output_format', /png or jpeg/],
    [{prompt: ''}, 'prompt', /empty/],
    [{model: 'bad/../model', prompt: 'x'}, 'model', /not a valid model/],
  ];
  for (const [params, param, message] of cases) {
    const m = s.mark();
    const e = await sdkRejects(() => c.images.generate(params), OpenAI.BadRequestError, 400);
    assertOpenAIErrorShape(e.error, {type: 'invalid_request_error', param});
    assert.match(e.error.message, message, JSON.stringify(params));
    assert.equal(s.upstreamSince(m).length, 0, `${param}: refused before any upstream call`);
  }
});

test('images.generate: a filtered prompt is content_policy_violation, an upstream 429 a RateLimitError',
     async () => {
  const c = s.client();
  const blocked = await sdkRejects(() => c.images.generate({prompt: 'x [[block]]', n: 2}),
                                   OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(blocked.error, {code: 'content_policy_violation'});
  assert.match(blocked.error.message, /safety filter/);
  const gemBlocked = await sdkRejects(
      () => c.images.generate({model: GEMINI_IMAGE, prompt: 'x [[block]]'}), OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(gemBlocked.error, {code: 'content_policy_violation'});
  // A 429 cools the pool keys: on a gateway of its own, so the other tests keep theirs.
  const own = await openaiStack({fake: s.fake});
  s.fake.setAllMode('quota');
  try {
    await sdkRejects(() => own.client().images.generate({prompt: 'y'}), OpenAI.RateLimitError, 429);
  } finally {
    s.fake.setAllMode(null);
    await own.close();
  }
});

test('audio.speech.create wav: tts-1 → the TTS model, alloy → Kore, a RIFF header over 24 kHz mono PCM',
     async () => {
  const rf = recordingFetch();
  const m = s.mark();
  const res = await s.client({fetch: rf}).audio.speech.create(
      {model: 'tts-1', voice: 'alloy', input: 'hello world', response_format: 'wav'});
  const rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${TTS}:generateContent`);
  assert.deepEqual(rec.json, {
    contents: [{role: 'user', parts: [{text: 'hello world'}]}],
    generationConfig: {responseModalities: ['AUDIO'],
                       speechConfig: {voiceConfig: {prebuiltVoiceConfig: {voiceName: 'Kore'}}}}});
  assert.equal(res.headers.get('content-type'), 'audio/wav');
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(Number(res.headers.get('content-length')), buf.length);
  const wav = readWav(buf);
  assert.deepEqual({channels: wav.channels, rate: wav.rate, bits: wav.bits, byteRate: wav.byteRate},
                   {channels: 1, rate: PCM_RATE, bits: 16, byteRate: PCM_RATE * 2});
  assert.ok(wav.pcm.equals(fakePcm(11 * PCM_RATE / 20)), 'the upstream samples, unchanged');
});

test('audio.speech.create pcm, Gemini voice names as they are, instructions as a style prompt, default wav',
     async () => {
  const c = s.client();
  let m = s.mark();
  const pcm = Buffer.from(await (await c.audio.speech.create(
      {model: TTS, voice: 'puck', input: 'abc', response_format: 'pcm',
       instructions: 'Say cheerfully'})).arrayBuffer());
  const rec = s.onlyUpstream(m);
  assert.equal(rec.json.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName, 'Puck');
  assert.equal(rec.json.contents[0].parts[0].text, 'Say cheerfully:\nabc');
  assert.ok(pcm.equals(fakePcm(pcm.length / 2)));
  assert.equal(pcm.length, 'Say cheerfully:\nabc'.length * (PCM_RATE / 20) * 2);
  m = s.mark();
  const dflt = await c.audio.speech.create({model: 'gpt-4o-mini-tts', voice: {id: 'cedar'}, input: 'x'});
  assert.equal(dflt.headers.get('content-type'), 'audio/wav', 'no response_format → wav');
  assert.equal(s.onlyUpstream(m).json.generationConfig.speechConfig.voiceConfig
                   .prebuiltVoiceConfig.voiceName, 'Sulafat');
});

test('audio.speech.create: a minute of audio arrives whole with the right length', async () => {
  const res = await s.client().audio.speech.create(
      {model: 'tts-1-hd', voice: 'nova', input: 'long read [[seconds=60 chunks=1]]',
       response_format: 'wav'});
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(buf.length, 44 + 60 * PCM_RATE * 2);
  assert.equal(Number(res.headers.get('content-length')), buf.length);
  assert.ok(readWav(buf).pcm.equals(fakePcm(60 * PCM_RATE)));
});

test('audio.speech.create refusals name the parameter and what is supported', async () => {
  const c = s.client();
  const cases = [
    [{response_format: 'mp3'}, 'response_format', /wav.*pcm/],
    [{response_format: 'opus'}, 'response_format', /no audio encoder/],
    [{voice: 'robot'}, 'voice', /alloy→Kore.*Zephyr/],
    [{speed: 1.5}, 'speed', /instructions/],
    [{input: ''}, 'input', /empty/],
    [{input: 'x'.repeat(4097)}, 'input', /4096/],
    [{stream_format: 'sse'}, 'stream_format', /audio/],
  ];
  for (const [over, param, message] of cases) {
    const m = s.mark();
    const e = await sdkRejects(() => c.audio.speech.create({model: 'tts-1', voice: 'alloy', input: 'hi',
                                                             ...over}), OpenAI.BadRequestError, 400);
    assertOpenAIErrorShape(e.error, {param});
    assert.match(e.error.message, message, param);
    assert.equal(s.upstreamSince(m).length, 0);
  }
});

test('chat with modalities ["text","audio"] on a TTS model: message.audio holds a wav, content null',
     async () => {
  const m = s.mark();
  const r = await s.client().chat.completions.create({
    model: TTS, modalities: ['text', 'audio'], audio: {voice: 'echo', format: 'wav'},
    messages: [{role: 'user', content: 'read this aloud'}]});
  const rec = s.onlyUpstream(m);
  assert.deepEqual(rec.json.generationConfig.responseModalities, ['AUDIO']);
  assert.equal(rec.json.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName, 'Charon');
  const msg = r.choices[0].message;
  assert.equal(msg.content, null);
  assert.match(msg.audio.id, /^audio_/);
  assert.ok(msg.audio.expires_at > r.created);
  assert.equal(msg.audio.transcript, '');
  const wav = readWav(Buffer.from(msg.audio.data, 'base64'));
  assert.equal(wav.rate, PCM_RATE);
  assert.ok(wav.pcm.equals(fakePcm('read this aloud'.length * PCM_RATE / 20)));
  assert.equal(r.usage.completion_tokens_details.audio_tokens, r.usage.completion_tokens);
});

test('chat audio streamed as pcm16: delta.audio chunks join into the samples; wav streams are refused',
     async () => {
  const c = s.client();
  const chunks = await collect(await c.chat.completions.create({
    model: TTS, modalities: ['audio'], audio: {voice: 'Kore', format: 'pcm16'}, stream: true,
    messages: [{role: 'user', content: 'stream me [[chunks=3]]'}]}));
  const audio = chunks.flatMap((ch) => ch.choices).map((ch) => ch.delta?.audio).filter(Boolean);
  assert.equal(audio.length, 3);
  const pcm = Buffer.concat(audio.map((a) => Buffer.from(a.data, 'base64')));
  assert.ok(pcm.equals(fakePcm('stream me'.length * PCM_RATE / 20)));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  const e = await sdkRejects(() => c.chat.completions.create({
    model: TTS, modalities: ['audio'], audio: {voice: 'alloy', format: 'wav'}, stream: true,
    messages: [{role: 'user', content: 'x'}]}), OpenAI.BadRequestError, 400);
  assertOpenAIErrorShape(e.error, {param: 'audio.format'});
  const mp3 = await sdkRejects(() => c.chat.completions.create({
    model: TTS, modalities: ['audio'], audio: {voice: 'alloy', format: 'mp3'},
    messages: [{role: 'user', content: 'x'}]}), OpenAI.BadRequestError, 400);
  assert.match(mp3.error.message, /wav, pcm16/);
  await sdkRejects(() => c.chat.completions.create({model: TTS, modalities: ['audio'],
    messages: [{role: 'user', content: 'x'}]}), OpenAI.BadRequestError, 400);
});

test('image parts in a Gemini answer reach OpenAI chat clients as message.images / delta.images',
     async () => {
  const c = s.client();
  const m = s.mark();
  const r = await c.chat.completions.create({model: GEMINI_IMAGE, modalities: ['text', 'image'],
                                             messages: [{role: 'user', content: 'draw a cat'}]});
  assert.deepEqual(s.onlyUpstream(m).json.generationConfig.responseModalities, ['TEXT', 'IMAGE']);
  const msg = r.choices[0].message;
  assert.equal(msg.content, 'Here is your image of draw a cat.');
  assert.equal(msg.images.length, 1);
  assert.equal(msg.images[0].type, 'image_url');
  const url = msg.images[0].image_url.url;
  assert.match(url, /^data:image\/png;base64,/);
  assert.equal(readFakeImage(url.split(',')[1]).prompt, 'draw a cat');

  const chunks = await collect(await c.chat.completions.create({
    model: GEMINI_IMAGE, modalities: ['text', 'image'], stream: true,
    messages: [{role: 'user', content: 'draw a dog [[chunks=2]]'}]}));
  const images = chunks.flatMap((ch) => ch.choices).flatMap((ch) => ch.delta?.images || []);
  assert.equal(images.length, 1);
  assert.equal(images[0].index, 0);
  assert.equal(readFakeImage(images[0].image_url.url.split(',')[1]).prompt, 'draw a dog');
  const text = chunks.flatMap((ch) => ch.choices).map((ch) => ch.delta?.content || '').join('');
  assert.equal(text, 'Here is your image of draw a dog.');
});

test('native :predict and :predictLongRunning pass through the gemini route with a pool key', async () => {
  let m = s.mark();
  const body = {instances: [{prompt: 'native fox'}], parameters: {sampleCount: 1}};
  const r = await call(s.gw, `/v1beta/models/${IMAGEN}:predict`, {token: s.token, body});
  assert.equal(r.status, 200, r.text);
  assert.equal(readFakeImage(r.json.predictions[0].bytesBase64Encoded).prompt, 'native fox');
  let rec = s.onlyUpstream(m);
  assert.equal(rec.path, `/v1beta/models/${IMAGEN}:predict`);
  assert.deepEqual(rec.json, body);

  m = s.mark();
  const op = await call(s.gw, '/v1beta/models/veo-3.0-generate-001:predictLongRunning',
                        {token: s.token, body: {instances: [{prompt: 'a wave'}]}});
  assert.equal(op.status, 200, op.text);
  assert.match(op.json.name, /^models\/veo-3\.0-generate-001\/operations\//);
  rec = s.onlyUpstream(m);
  assert.equal(rec.path, '/v1beta/models/veo-3.0-generate-001:predictLongRunning');
  const bad = await call(s.gw, `/v1beta/models/${IMAGEN}:predict`,
                         {token: s.token, body: {instances: [{prompt: 'x'}], parameters: {sampleCount: 9}}});
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.status, 'INVALID_ARGUMENT');
});

test('the request log records image and speech calls with the Gemini model, status and tokens', async () => {
  const admin = 'media-admin-token-0123456789abcdef';
  const own = await openaiStack({fake: s.fake, env: {AUTH_TOKEN: admin}});
  try {
    await own.client().audio.speech.create({model: 'tts-1', voice: 'alloy', input: 'logged'});
    await own.client().images.generate({prompt: 'logged'});
    await assert.rejects(own.client().images.generate({prompt: 'x', response_format: 'url'}));
    let rows = [];
    for (let i = 0; i < 100 && rows.length < 3; i++) {
      const res = await fetch(own.url('/admin/api/logs'), {headers: {authorization: `Bearer ${admin}`}});
      rows = (await res.json()).items || [];
      if (rows.length < 3) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(rows.length, 3, JSON.stringify(rows));
    const [refused, image, speech] = rows;  // newest first
    assert.equal(refused.status, 400);
    assert.equal(image.status, 200);
    assert.equal(image.model, IMAGEN);
    assert.equal(speech.status, 200);
    assert.equal(speech.model, TTS);
    assert.ok(speech.total_tokens > 0 && speech.completion_tokens > 0, JSON.stringify(speech));
    assert.ok(!JSON.stringify(rows).includes(own.token), 'no client token in the log rows');
  } finally {
    await own.close();
  }
});
