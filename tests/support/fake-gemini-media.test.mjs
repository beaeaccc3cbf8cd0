// Self-test of the stand-in upstream's image and speech models (fake-gemini-media.mjs): the
// OpenAI media e2e suite trusts what they check and answer.
// Run: node --test tests/support/fake-gemini-media.test.mjs   (CTest: support.fake_gemini_media)

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {startFakeGemini} from './fake-gemini.mjs';
import {call, poolKey, sseEvents} from './gateway.mjs';
import {readFakeImage, fakePcm, PCM_RATE} from './fake-gemini-media.mjs';

let fake;
const VALID = poolKey('Valid');
before(async () => { fake = await startFakeGemini(); });
after(async () => { await fake.close(); });
beforeEach(() => fake.reset());

const predict = (body, model = 'imagen-4.0-generate-001') =>
  call(fake, `/v1beta/models/${model}:predict`, {token: VALID, body});

test('Imagen :predict answers sampleCount images that carry the prompt and the aspect ratio', async () => {
  const r = await predict({instances: [{prompt: 'a red fox'}],
                           parameters: {sampleCount: 3, aspectRatio: '16:9'}});
  assert.equal(r.status, 200);
  assert.equal(r.json.predictions.length, 3);
  r.json.predictions.forEach((p, i) => {
    assert.equal(p.mimeType, 'image/png');
    assert.deepEqual(readFakeImage(p.bytesBase64Encoded),
                     {model: 'imagen-4.0-generate-001', ratio: '16:9', size: '1K', index: i,
                      prompt: 'a red fox'});
  });
  const dflt = await predict({instances: [{prompt: 'x'}]});
  assert.equal(dflt.json.predictions.length, 4, 'Imagen makes 4 by default');
});

test('Imagen refuses what Google refuses, and [[block]] filters every image', async () => {
  for (const parameters of [{sampleCount: 5}, {sampleCount: 0}, {aspectRatio: '3:2'},
                            {sampleImageSize: '4K'}, {outputOptions: {mimeType: 'image/webp'}}]) {
    const r = await predict({instances: [{prompt: 'x'}], parameters});
    assert.equal(r.status, 400, JSON.stringify(parameters));
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  }
  assert.equal((await predict({instances: []})).status, 400);
  const blocked = await predict({instances: [{prompt: 'x [[block]]'}], parameters: {sampleCount: 2}});
  assert.equal(blocked.status, 200);
  assert.ok(blocked.json.predictions.every((p) => p.raiFilteredReason && !p.bytesBase64Encoded));
  assert.equal((await predict({instances: [{prompt: 'x [[status=429]]'}]})).status, 429);
  // :predict is the Imagen model's only method; generateContent on it is Google's 404.
  const gen = await call(fake, '/v1beta/models/imagen-4.0-generate-001:generateContent',
                         {token: VALID, body: {contents: [{parts: [{text: 'x'}]}]}});
  assert.equal(gen.status, 404);
});

test('the Gemini image model answers a text part and an inline PNG when asked for IMAGE', async () => {
  const body = {contents: [{role: 'user', parts: [{text: 'a blue bird'}]}],
                generationConfig: {responseModalities: ['TEXT', 'IMAGE'],
                                   imageConfig: {aspectRatio: '3:2'}}};
  const r = await call(fake, '/v1beta/models/gemini-2.5-flash-image:generateContent',
                       {token: VALID, body});
  assert.equal(r.status, 200);
  const parts = r.json.candidates[0].content.parts;
  assert.match(parts[0].text, /a blue bird/);
  assert.equal(parts[1].inlineData.mimeType, 'image/png');
  assert.equal(readFakeImage(parts[1].inlineData.data).ratio, '3:2');
  body.generationConfig.imageConfig.aspectRatio = '7:3';
  assert.equal((await call(fake, '/v1beta/models/gemini-2.5-flash-image:generateContent',
                           {token: VALID, body})).status, 400);
});

test('the TTS model speaks 24 kHz PCM, checks modalities and voice, and streams the samples', async () => {
  const body = (text, extra = {}) => ({
    contents: [{role: 'user', parts: [{text}]}],
    generationConfig: {responseModalities: ['AUDIO'],
                       speechConfig: {voiceConfig: {prebuiltVoiceConfig: {voiceName: 'Kore'}}},
                       ...extra}});
  const url = '/v1beta/models/gemini-2.5-flash-preview-tts:generateContent';
  const r = await call(fake, url, {token: VALID, body: body('hello world')});
  assert.equal(r.status, 200);
  const part = r.json.candidates[0].content.parts[0];
  assert.equal(part.inlineData.mimeType, `audio/L16;codec=pcm;rate=${PCM_RATE}`);
  const pcm = Buffer.from(part.inlineData.data, 'base64');
  assert.equal(pcm.length, 11 * (PCM_RATE / 20) * 2, '50 ms per character, 2 bytes a sample');
  assert.ok(pcm.equals(fakePcm(pcm.length / 2)));
  assert.equal(r.json.usageMetadata.candidatesTokensDetails[0].modality, 'AUDIO');
  const seconds = await call(fake, url, {token: VALID, body: body('x [[seconds=2]]')});
  assert.equal(Buffer.from(seconds.json.candidates[0].content.parts[0].inlineData.data, 'base64').length,
               2 * PCM_RATE * 2);

  const text = await call(fake, url, {token: VALID, body: body('x', {responseModalities: ['TEXT']})});
  assert.equal(text.status, 400);
  assert.match(text.json.error.message, /response modalities/);
  const both = await call(fake, url, {token: VALID, body: body('x', {responseModalities: ['TEXT', 'AUDIO']})});
  assert.equal(both.status, 400);
  const badVoice = body('x');
  badVoice.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName = 'alloy';
  assert.equal((await call(fake, url, {token: VALID, body: badVoice})).status, 400);

  const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash-preview-tts:streamGenerateContent?alt=sse`,
                          {method: 'POST', headers: {'x-goog-api-key': VALID, 'content-type': 'application/json'},
                           body: JSON.stringify(body('hello world [[chunks=4]]'))});
  const events = (await sseEvents(res)).events.map((e) => JSON.parse(e.data));
  assert.equal(events.length, 4);
  const joined = Buffer.concat(events.map((e) =>
    Buffer.from(e.candidates[0].content.parts[0].inlineData.data, 'base64')));
  assert.ok(joined.equals(fakePcm(joined.length / 2)), 'the chunks join into one tone');
});

test(':predictLongRunning answers an operation (recorded as owned by the calling key)', async () => {
  const r = await call(fake, '/v1beta/models/veo-3.0-generate-001:predictLongRunning',
                       {token: VALID, body: {instances: [{prompt: 'a wave'}]}});
  assert.equal(r.status, 200);
  assert.match(r.json.name, /^models\/veo-3\.0-generate-001\/operations\/\w+$/);
  assert.equal((await call(fake, '/v1beta/models/veo-3.0-generate-001:predictLongRunning',
                           {token: VALID, body: {instances: [{}]}})).status, 400);
});
