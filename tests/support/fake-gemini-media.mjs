// The stand-in upstream's image and speech models (hooked into fake-gemini.mjs and
// fake-gemini-content.mjs):
//   imagen-4.0-generate-001        POST :predict {instances:[{prompt}], parameters:{sampleCount
//                                  (1..4, default 4), aspectRatio, sampleImageSize, outputOptions}}
//                                  → {predictions:[{bytesBase64Encoded, mimeType}]}
//   gemini-2.5-flash-image         generateContent / streamGenerateContent: a text part and one
//                                  inlineData image/png part (imageConfig.aspectRatio checked)
//   gemini-2.5-flash-preview-tts   generateContent / streamGenerateContent with
//                                  responseModalities ["AUDIO"] only and a known prebuilt voice:
//                                  inlineData audio/L16;codec=pcm;rate=24000 (24 kHz 16-bit mono
//                                  little-endian), 50 ms per character of text, [[seconds=N]]
//                                  for N seconds; a stream splits the samples across the chunks
//   veo-3.0-generate-001           POST :predictLongRunning → an operation
//                                  {name: "models/veo-3.0-generate-001/operations/<id>"}, owned
//                                  by the calling key (served by fake-gemini-resources.mjs)
// Images are deterministic fake bytes: the PNG signature, then
// "fake-image model=<m> ratio=<r> size=<s> index=<i> prompt=<text>" — decode them to check what the
// model was asked for. [[block]] filters every image (Imagen: raiFilteredReason entries);
// [[status=N]] answers Google's error N.

import * as E from './fake-gemini-errors.mjs';

export const MEDIA_MODELS = [
  {id: 'imagen-4.0-generate-001', displayName: 'Imagen 4', version: '001', input: 480,
   output: 8192, methods: ['predict'], media: 'imagen'},
  {id: 'gemini-2.5-flash-image', displayName: 'Gemini 2.5 Flash Image', version: '2.0',
   input: 32768, output: 32768, methods: ['generateContent', 'countTokens'], media: 'image'},
  {id: 'gemini-2.5-flash-preview-tts', displayName: 'Gemini 2.5 Flash Preview TTS',
   version: 'gemini-2.5-flash-exp-tts-2025-05-19', input: 8192, output: 16384,
   methods: ['countTokens', 'generateContent'], media: 'tts'},
  {id: 'veo-3.0-generate-001', displayName: 'Veo 3', version: '3.0', input: 1024, output: 1,
   methods: ['predictLongRunning'], media: 'video'},
];

export const IMAGEN_RATIOS = ['1:1', '3:4', '4:3', '9:16', '16:9'];
export const GEMINI_IMAGE_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9',
                                    '21:9'];
export const VOICES = ['Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede',
  'Callirrhoe', 'Autonoe', 'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome',
  'Algenib', 'Rasalgethi', 'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima',
  'Achird', 'Zubenelgenubi', 'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat'];
export const PCM_RATE = 24000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether a media model accepts a URL action. */
export function mediaSupports(model, action) {
  if (model.media === 'imagen') return action === 'predict';
  if (model.media === 'video') return action === 'predictLongRunning';
  return ['generateContent', 'streamGenerateContent', 'countTokens'].includes(action);
}

/** The fake image bytes (base64) for one image. */
export function fakeImage({model, ratio, size, index, prompt}) {
  const meta = `fake-image model=${model} ratio=${ratio} size=${size} index=${index} prompt=${prompt}`;
  return Buffer.concat([PNG_SIGNATURE, Buffer.from(meta, 'utf8')]).toString('base64');
}

/** Decodes fakeImage() bytes back into their fields ({model, ratio, size, index, prompt}), or null. */
export function readFakeImage(b64) {
  const buf = Buffer.from(b64, 'base64');
  if (!buf.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  const m = buf.subarray(8).toString('utf8')
      .match(/^fake-image model=(\S+) ratio=(\S+) size=(\S+) index=(\d+) prompt=(.*)$/s);
  return m && {model: m[1], ratio: m[2], size: m[3], index: Number(m[4]), prompt: m[5]};
}

/** `samples` of a 440 Hz tone as 16-bit little-endian PCM, starting at sample `from`. */
export function fakePcm(samples, from = 0) {
  const buf = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (from + i)) / PCM_RATE)), i * 2);
  }
  return buf;
}

/** Samples spoken for `text`: 50 ms per character (at least 100 ms), or [[seconds=N]]. */
export function speechSamples(text, directives) {
  if (Number(directives.seconds) > 0) return Math.round(Number(directives.seconds) * PCM_RATE);
  return Math.max(PCM_RATE / 10, text.length * (PCM_RATE / 20));
}

function promptOf(json) {
  const contents = Array.isArray(json?.contents) ? json.contents : [];
  const last = contents[contents.length - 1];
  const parts = Array.isArray(last?.parts) ? last.parts : [];
  return parts.filter((p) => typeof p.text === 'string').map((p) => p.text).join('');
}

function clean(text) {
  return String(text).replace(/\[\[[^\[\]]*\]\]/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Answers the calls only media models take, and refuses the bad requests Google refuses:
 * :predict in full; generateContent / streamGenerateContent on an image
 * or TTS model only when the request is bad (else null, and the usual generation path answers
 * through mediaChunks). Returns {status, body} or null.
 */
export function mediaAnswer(ctx, model, json, directives) {
  if (!model.media) return null;
  if (directives.status) return E.errorForStatus(Number(directives.status), model.id);
  if (ctx.action === 'predict') return predictAnswer(model, json, directives);
  // :predictLongRunning and its operations are served by fake-gemini-resources.mjs (before any
  // model dispatch), which owns the long-running resources.
  if (ctx.action === 'countTokens') return null;
  const config = json.generationConfig || {};
  const modalities = config.responseModalities || ['TEXT'];
  if (model.media === 'tts') {
    if (modalities.length !== 1 || modalities[0] !== 'AUDIO') {
      return E.invalidArgument(`The requested combination of response modalities (${
          modalities.join(', ')}) is not supported by the model. models/${model.id} accepts the ` +
          'following combination of response modalities:\n* AUDIO\n');
    }
    const voice = config.speechConfig?.voiceConfig?.prebuiltVoiceConfig?.voiceName;
    if (voice !== undefined && !VOICES.some((v) => v.toLowerCase() === String(voice).toLowerCase())) {
      return E.invalidArgument(`Voice name ${voice} is not supported.`);
    }
    if (!clean(promptOf(json))) return E.invalidArgument('The input text is empty.');
  }
  if (model.media === 'image') {
    const ratio = config.imageConfig?.aspectRatio;
    if (ratio !== undefined && !GEMINI_IMAGE_RATIOS.includes(ratio)) {
      return E.invalidArgument(`Unsupported aspect ratio: ${ratio}.`);
    }
  }
  return null;
}

function predictAnswer(model, json, directives) {
  const inst = Array.isArray(json.instances) ? json.instances[0] : undefined;
  if (!inst || typeof inst.prompt !== 'string' || !inst.prompt) {
    return E.invalidArgument('instances[0].prompt is required.');
  }
  const p = json.parameters || {};
  const n = p.sampleCount ?? 4;
  if (!Number.isInteger(n) || n < 1 || n > 4) {
    return E.invalidArgument('sampleCount must be between 1 and 4.');
  }
  const ratio = p.aspectRatio ?? '1:1';
  if (!IMAGEN_RATIOS.includes(ratio)) return E.invalidArgument(`Unsupported aspect ratio: ${ratio}.`);
  const size = p.sampleImageSize ?? '1K';
  if (!['1K', '2K'].includes(size)) return E.invalidArgument(`Unsupported image size: ${size}.`);
  const mimeType = p.outputOptions?.mimeType ?? 'image/png';
  if (!['image/png', 'image/jpeg'].includes(mimeType)) {
    return E.invalidArgument(`Unsupported output mime type: ${mimeType}.`);
  }
  if (directives.block) {
    return {status: 200, body: {predictions: Array.from({length: n}, () => ({
      raiFilteredReason: 'Your current safety filter threshold filtered out the generated image.',
    }))}};
  }
  const prompt = clean(inst.prompt);
  return {status: 200, body: {predictions: Array.from({length: n}, (_, index) => ({
    bytesBase64Encoded: fakeImage({model: model.id, ratio, size, index, prompt}), mimeType,
  }))}};
}

/**
 * The generation chunks of an image or TTS model (the same envelope as
 * fake-gemini-content.mjs's generationChunks): `n` chunks when streaming, else one. Returns null
 * for other models.
 */
export function mediaChunks({model, body, directives, stream, base, usage}) {
  if (model.media !== 'image' && model.media !== 'tts') return null;
  const n = stream ? Math.max(1, Number(directives.chunks) || 3) : 1;
  const text = clean(promptOf(body));
  const prompt = Math.max(1, Math.ceil(text.length / 4));
  if (model.media === 'image') {
    const ratio = body.generationConfig?.imageConfig?.aspectRatio ?? '1:1';
    const size = body.generationConfig?.imageConfig?.imageSize ?? '1K';
    const wantsImage = (body.generationConfig?.responseModalities || []).includes('IMAGE');
    const parts = [{text: `Here is your image of ${text}.`}];
    if (wantsImage) {
      parts.push({inlineData: {mimeType: 'image/png',
                               data: fakeImage({model: model.id, ratio, size, index: 0, prompt: text})}});
    }
    const u = {...usage(prompt, wantsImage ? 1290 : 8, 0)};
    if (wantsImage) u.candidatesTokensDetails = [{modality: 'IMAGE', tokenCount: 1290}];
    const out = [{candidates: [{content: {parts, role: 'model'}, finishReason: 'STOP', index: 0}],
                  usageMetadata: u, ...base}];
    return stream ? splitParts(out[0], n) : out;
  }
  const samples = speechSamples(text, directives);
  const per = Math.ceil(samples / n);
  const tokens = Math.max(1, Math.round((samples / PCM_RATE) * 25));
  return Array.from({length: n}, (_, i) => {
    const from = i * per;
    const count = Math.max(0, Math.min(per, samples - from));
    const last = i === n - 1;
    const cand = {content: {parts: [{inlineData: {mimeType: `audio/L16;codec=pcm;rate=${PCM_RATE}`,
                                                  data: fakePcm(count, from).toString('base64')}}],
                            role: 'model'}, index: 0};
    if (last) cand.finishReason = 'STOP';
    const u = usage(prompt, last ? tokens : null, 0);
    if (last) u.candidatesTokensDetails = [{modality: 'AUDIO', tokenCount: tokens}];
    return {candidates: [cand], usageMetadata: u, ...base};
  });
}

/** A streamed image answer: the text in the first chunk, the image in the last. */
function splitParts(whole, n) {
  if (n === 1) return [whole];
  const [cand] = whole.candidates;
  return Array.from({length: n}, (_, i) => {
    const last = i === n - 1;
    const parts = i === 0 ? [cand.content.parts[0]] : last ? cand.content.parts.slice(1) : [];
    const c = {content: {parts, role: 'model'}, index: 0};
    if (last) c.finishReason = 'STOP';
    return {candidates: [c], usageMetadata: last ? whole.usageMetadata
                                                 : {promptTokenCount: whole.usageMetadata.promptTokenCount},
            modelVersion: whole.modelVersion, responseId: whole.responseId};
  });
}
