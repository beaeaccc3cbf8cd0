// Deterministic content for the stand-in Gemini upstream (fake-gemini.mjs): the model catalogue,
// prompt directives, generateContent / stream chunks, token counts and fake embeddings.
// Everything here is a pure function of the request, so tests can predict every byte. Answers
// are returned as {status, body}; the server (fake-gemini.mjs) sends them.

import * as E from './fake-gemini-errors.mjs';
import {MEDIA_MODELS, mediaChunks, mediaSupports} from './fake-gemini-media.mjs';

/** The model catalogue served by GET models (names without the "models/" prefix). */
const GEN_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
export const MODELS = [
  {id: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', version: '001', input: 1048576,
   output: 65536, methods: GEN_METHODS, thinking: true},
  {id: 'gemini-2.5-flash-lite', displayName: 'Gemini 2.5 Flash-Lite', version: '001',
   input: 1048576, output: 65536, methods: GEN_METHODS, thinking: true},
  {id: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', version: '2.5', input: 1048576,
   output: 65536, methods: GEN_METHODS, thinking: true},
  {id: 'gemini-2.0-flash', displayName: 'Gemini 2.0 Flash', version: '2.0', input: 1048576,
   output: 8192, methods: GEN_METHODS, thinking: false},
  {id: 'text-embedding-004', displayName: 'Text Embedding 004', version: '004', input: 2048,
   output: 1, methods: ['embedContent'], embedding: 768},
  {id: 'gemini-embedding-001', displayName: 'Gemini Embedding 001', version: '001', input: 2048,
   output: 1, methods: ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'],
   embedding: 3072},
  ...MEDIA_MODELS,  // image, TTS, Imagen and Veo models: fake-gemini-media.mjs
];

/** Looks up a model by id ("gemini-2.5-flash" or "models/gemini-2.5-flash"); undefined if unknown. */
export function findModel(name) {
  const id = String(name || '').replace(/^models\//, '');
  return MODELS.find((m) => m.id === id);
}

/** Whether the model accepts the given URL action (streamGenerateContent counts as generation). */
export function modelSupports(model, action) {
  if (model.media) return mediaSupports(model, action);
  if (model.embedding) {
    return action === 'embedContent' || action === 'batchEmbedContents' ||
           (action === 'countTokens' && model.methods.includes('countTokens'));
  }
  return ['generateContent', 'streamGenerateContent', 'countTokens'].includes(action);
}

/** The public JSON of one model, as Google's models.get / models.list return it. */
export function modelJson(m) {
  const out = {
    name: `models/${m.id}`,
    version: m.version,
    displayName: m.displayName,
    description: `${m.displayName} (stand-in model served by gemgate's fake upstream)`,
    inputTokenLimit: m.input,
    outputTokenLimit: m.output,
    supportedGenerationMethods: m.methods,
  };
  if (!m.embedding) {
    Object.assign(out, {temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2});
    if (m.thinking) out.thinking = true;
  }
  return out;
}

/**
 * Parses the [[...]] directives found anywhere in the raw request body. Values are numbers when
 * numeric, strings otherwise; a bare word is `true`. Later directives win.
 */
export function parseDirectives(rawBody) {
  const out = {};
  const re = /\[\[([^\[\]]*)\]\]/g;
  let m;
  while ((m = re.exec(rawBody || '')) !== null) {
    for (const tok of m[1].trim().split(/\s+/)) {
      if (!tok) continue;
      const eq = tok.indexOf('=');
      if (eq < 0) { out[tok] = true; continue; }
      const k = tok.slice(0, eq), v = tok.slice(eq + 1);
      out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    }
  }
  return out;
}

/** Removes directives from a text and collapses the spaces they leave behind. */
export function stripDirectives(text) {
  return String(text).replace(/\[\[[^\[\]]*\]\]/g, ' ').replace(/\s+/g, ' ').trim();
}

function partsText(content) {
  if (!content || !Array.isArray(content.parts)) return '';
  return content.parts.filter((p) => typeof p.text === 'string').map((p) => p.text).join('');
}

/** Text of the last user turn (role "user" or no role), directives removed. */
export function lastUserText(body) {
  const contents = Array.isArray(body?.contents) ? body.contents : [];
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if (!c.role || c.role === 'user') return stripDirectives(partsText(c));
  }
  return '';
}

/** Rough token count used everywhere (4 characters per token, at least 1 for non-empty text). */
export function countTokensOf(text) {
  return text ? Math.max(1, Math.ceil(text.length / 4)) : 0;
}

/** All prompt text of a generate request (contents + systemInstruction). */
export function promptText(body) {
  const contents = Array.isArray(body?.contents) ? body.contents : [];
  return contents.map(partsText).join('\n') + partsText(body?.systemInstruction);
}

function filler(n) {
  let s = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < n; i++) s += alphabet[i % 26];
  return s;
}

/**
 * The reply texts of a generation, one per chunk: chunk 0 is "echo: <last user text>", chunk i
 * is " #i"; [[pad=N]] appends N filler letters to every chunk. In JSON mode
 * (generationConfig.responseMimeType application/json) the JSON text {"echo": ...} is split
 * across the chunks so that their concatenation parses.
 */
export function replyTexts(body, n, directives) {
  const text = lastUserText(body);
  const pad = Number(directives.pad) > 0 ? filler(Number(directives.pad)) : '';
  if (body?.generationConfig?.responseMimeType === 'application/json') {
    const full = JSON.stringify({echo: text}) + pad.replace(/./g, ' ');
    const size = Math.ceil(full.length / n);
    return Array.from({length: n}, (_, i) => full.slice(i * size, (i + 1) * size));
  }
  return Array.from({length: n}, (_, i) => (i === 0 ? `echo: ${text}` : ` #${i}`) + pad);
}

/** usageMetadata for a prompt and the reply so far; thoughts only when > 0. */
export function usage(promptTokens, candidateTokens, thoughtTokens) {
  const u = {promptTokenCount: promptTokens};
  if (candidateTokens !== null) u.candidatesTokenCount = candidateTokens;
  u.totalTokenCount = promptTokens + (candidateTokens || 0) + (thoughtTokens || 0);
  u.promptTokensDetails = [{modality: 'TEXT', tokenCount: promptTokens}];
  if (thoughtTokens) u.thoughtsTokenCount = thoughtTokens;
  return u;
}

/** Thought tokens: [[thoughts=N]] wins; gemini-2.5-pro thinks by default, the others do not. */
export function thoughtTokens(model, directives) {
  if (directives.thoughts !== undefined) return Number(directives.thoughts) || 0;
  return model.id === 'gemini-2.5-pro' ? 21 : 0;
}

/**
 * Builds the full list of response objects for a generate call: one object for generateContent,
 * `n` objects for streamGenerateContent. All share responseId and modelVersion; the last one
 * carries finishReason and the final usageMetadata.
 */
export function generationChunks({model, body, directives, stream, responseId}) {
  const n = stream ? Math.max(1, Number(directives.chunks) || 3) : 1;
  const prompt = countTokensOf(promptText(body));
  const base = {modelVersion: model.id, responseId};
  if (directives.block) {
    return [{
      promptFeedback: {
        blockReason: 'SAFETY',
        safetyRatings: [{category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH',
                         blocked: true}],
      },
      usageMetadata: usage(prompt, null, 0), ...base,
    }];
  }
  const media = mediaChunks({model, body, directives, stream, base, usage});
  if (media) return media;
  const thoughts = thoughtTokens(model, directives);
  if (directives.call) {
    const name = String(directives.call);
    const part = {functionCall: {name, args: {echo: lastUserText(body)}},
                  thoughtSignature: Buffer.from(`fake-signature:${name}`).toString('base64')};
    return [{candidates: [{content: {parts: [part], role: 'model'}, finishReason: 'STOP',
                           index: 0}],
             usageMetadata: usage(prompt, 5, thoughts), ...base}];
  }
  const texts = replyTexts(body, n, directives);
  let sofar = 0;
  return texts.map((t, i) => {
    const last = i === texts.length - 1;
    const parts = [{text: t}];
    if (i === 0 && directives.thought) parts.unshift({text: 'Thinking about the echo.', thought: true});
    const cand = {content: {parts, role: 'model'}, index: 0};
    sofar += t.length;
    if (last) cand.finishReason = String(directives.finish || 'STOP');
    const u = last ? usage(prompt, countTokensOf(texts.join('')), thoughts)
                   : usage(prompt, null, 0);
    return {candidates: [cand], usageMetadata: u, ...base};
  });
}

/**
 * A deterministic embedding of `text`: `dims` floats in [-1, 1] with 6 decimals, from an
 * FNV-1a seeded xorshift generator. Same text and dims → same vector.
 */
export function fakeEmbedding(text, dims) {
  let h = 0x811c9dc5;
  for (const c of String(text)) {
    h ^= c.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let x = h || 1;
  const values = new Array(dims);
  for (let i = 0; i < dims; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    values[i] = Math.round(((x / 0xffffffff) * 2 - 1) * 1e6) / 1e6;
  }
  return values;
}

/** Text of an embed request's content (all text parts joined). */
export function embedText(content) {
  return partsText(content);
}

/** models.list: pageSize (default 50, at most 1000) and an opaque pageToken. */
export function listModelsPage(query) {
  const size = Math.min(Math.max(Number(query.get('pageSize')) || 50, 1), 1000);
  let start = 0;
  if (query.get('pageToken')) {
    const dec = Buffer.from(query.get('pageToken'), 'base64url').toString();
    if (!/^offset:\d+$/.test(dec)) return E.invalidArgument('Invalid page token.');
    start = Number(dec.slice(7));
  }
  const body = {models: MODELS.slice(start, start + size).map(modelJson)};
  if (start + size < MODELS.length) {
    body.nextPageToken = Buffer.from(`offset:${start + size}`).toString('base64url');
  }
  return {status: 200, body};
}

/** countTokens, for {contents} or {generateContentRequest: {contents}}. */
export function countTokensAnswer(model, json) {
  const tokens = countTokensOf(promptText(json.generateContentRequest || json));
  return {status: 200,
          body: {totalTokens: tokens, promptTokensDetails: [{modality: 'TEXT', tokenCount: tokens}]}};
}

function embedDims(model, requested) {
  if (requested === undefined || requested === null) return model.embedding;
  const n = Number(requested);
  return Number.isInteger(n) && n >= 1 && n <= model.embedding ? n : null;
}

/** embedContent: one deterministic vector, outputDimensionality honoured. */
export function embedAnswer(model, json) {
  if (!json.content) {
    return E.invalidArgument('* EmbedContentRequest.content: content is not specified\n');
  }
  const dims = embedDims(model, json.outputDimensionality);
  if (!dims) return E.invalidArgument('* EmbedContentRequest.output_dimensionality: invalid value\n');
  return {status: 200, body: {embedding: {values: fakeEmbedding(embedText(json.content), dims)}}};
}

/** batchEmbedContents: at most 100 requests, each naming the URL's model (as Google checks). */
export function batchEmbedAnswer(model, json) {
  const reqs = json.requests;
  const field = '* BatchEmbedContentsRequest.requests';
  if (!Array.isArray(reqs) || reqs.length === 0) {
    return E.invalidArgument(`${field}: requests is not specified\n`);
  }
  if (reqs.length > 100) {
    return E.invalidArgument(`${field}: at most 100 requests can be in one batch\n`);
  }
  const out = [];
  for (const [i, r] of reqs.entries()) {
    if (r.model && String(r.model).replace(/^models\//, '') !== model.id) {
      return E.invalidArgument(`${field}[${i}].model: Model names should match.\n`);
    }
    const dims = embedDims(model, r.outputDimensionality);
    if (!dims) return E.invalidArgument(`${field}[${i}].output_dimensionality: invalid value\n`);
    out.push({values: fakeEmbedding(embedText(r.content), dims)});
  }
  return {status: 200, body: {embeddings: out}};
}
