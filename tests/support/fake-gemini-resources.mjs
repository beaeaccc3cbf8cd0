// The stand-in upstream's other server-side resources (cachedContents, batches, interactions,
// tuned models, long-running operations, and the Files API's get/list/delete/download for files
// the upload lane's module did not answer), each owned by the key that created it
// (fake-resources.mjs), and the check that a model call only names resources of its own key.
//
//   POST   /v1beta/cachedContents {model, contents?, ttl?: "300s" | expireTime?}
//   GET    /v1beta/cachedContents[/{id}]   PATCH …/{id} {ttl | expireTime}   DELETE …/{id}
//   POST   /v1beta/models/{m}:batchGenerateContent {batch: {input_config: {requests | file_name}}}
//          → a batch operation {name: "batches/…", metadata}; GET /v1beta/batches/{id} → done
//          with its inlined responses; POST …/{id}:cancel; DELETE …/{id}; GET /v1beta/batches →
//          {operations: [the key's batches]}
//   POST   /v1beta/interactions {model, input, previous_interaction_id?, stream?} → {id, outputs,
//          …}, or with stream: true an event stream (interaction.created carries the id);
//   GET / DELETE /v1beta/interactions/{id}
//   POST   /v1beta/tunedModels → {name: "tunedModels/t/operations/o", metadata: {tunedModel}};
//   GET    /v1beta/tunedModels (the key's) and /v1beta/tunedModels/{t}[/operations/{o}];
//          POST /v1beta/tunedModels/{t}:generateContent
//   POST   /v1beta/models/{m}:predictLongRunning → {name: "models/m/operations/o"}; GET of it →
//          done, with a generated video: a file of the same key, named by its download URI
//   GET    /v1beta/files[/{id}], DELETE /v1beta/files/{id}, GET /download/v1beta/files/{id}:download
//
// Every name is checked against the calling key: another key's (or no such) resource → 403
// PERMISSION_DENIED, as Google answers. CONTROL: POST /__control/resource {name?, kind?, key,
// expireTime?} creates a resource owned by `key` without an upload (tests of affinity); the
// answer is the resource's JSON.

import {originOf} from './fake-gemini-tls.mjs';
import {addResource, deleteResource, ownershipError, resourceOf, resourcesOwnedBy} from
    './fake-resources.mjs';

let seq = 0;
function newId(prefix) {
  seq += 1;
  return `${prefix}${Date.now().toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function sendJson(res, status, obj) {
  const text = JSON.stringify(obj, null, 2) + '\n';
  res.writeHead(status, {'content-type': 'application/json; charset=UTF-8',
                         'content-length': Buffer.byteLength(text)});
  res.end(text);
}

function notFound(res, name) {
  return sendJson(res, 404, {error: {code: 404, status: 'NOT_FOUND',
    message: `Requested entity was not found: ${name}`}});
}

function badRequest(res, message) {
  return sendJson(res, 400, {error: {code: 400, status: 'INVALID_ARGUMENT', message}});
}

function parseBody(ctx) {
  if (!ctx.body.length) return {};
  try {
    return JSON.parse(ctx.body.toString('utf8'));
  } catch {
    return null;
  }
}

function ttlSeconds(ttl) {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(String(ttl || ''));
  return m ? Number(m[1]) : null;
}

/** The JSON of a file this module made (a control call, a generated video): the files module
 *  lists these beside its uploads. */
export function fileJson(st, r) {
  return {name: r.name, displayName: r.displayName || r.name.slice(6), mimeType: r.mimeType || 'text/plain',
          sizeBytes: String(r.sizeBytes ?? 5), createTime: new Date(r.createdAt).toISOString(),
          expirationTime: new Date(r.createdAt + 48 * 3600e3).toISOString(), state: 'ACTIVE',
          uri: `${r.base || 'https://generativelanguage.googleapis.com'}/v1beta/${r.name}`,
          source: 'UPLOADED'};
}

function cacheJson(r) {
  return {name: r.name, model: r.model, displayName: r.displayName || '',
          createTime: new Date(r.createdAt).toISOString(), updateTime: new Date(r.updatedAt || r.createdAt).toISOString(),
          expireTime: new Date(r.expiresAt).toISOString(), usageMetadata: {totalTokenCount: r.tokens || 10}};
}

/** The resource name a fileUri / cachedContent reference means ("files/abc"), or null. */
function referenceName(ref) {
  const s = String(ref || '');
  const m = /(?:^|\/)((?:files|cachedContents)\/[A-Za-z0-9_.-]+)(?::[A-Za-z]+)?(?:\?.*)?$/.exec(s);
  return m ? m[1] : null;
}

/** Every file / cached content / interaction a request body names (any depth). */
export function namesInBody(json, out = new Set(), depth = 0) {
  if (depth > 64 || json === null || typeof json !== 'object') return out;
  if (Array.isArray(json)) {
    for (const v of json) namesInBody(v, out, depth + 1);
    return out;
  }
  for (const [k, v] of Object.entries(json)) {
    if (typeof v === 'string') {
      if (['fileUri', 'file_uri', 'cachedContent', 'cached_content', 'file_name', 'fileName'].includes(k)) {
        const n = referenceName(v);
        if (n) out.add(n);
      } else if (k === 'previous_interaction_id') {
        out.add(`interactions/${v}`);
      }
    } else {
      namesInBody(v, out, depth + 1);
    }
  }
  return out;
}

/** Creates a resource for the control API: {name?, kind?, key, expireTime?, model?}. */
export function controlResource(st, json) {
  const kind = json.kind || (json.name ? json.name.split('/')[0] : 'files');
  const name = json.name || `${kind}/${newId('')}`;
  if (!json.key) throw new Error('key is required');
  const extra = {kind};
  if (kind === 'cachedContents') {
    extra.model = json.model || 'models/gemini-2.5-flash';
    extra.expiresAt = json.expireTime ? Date.parse(json.expireTime) : Date.now() + 3600e3;
  }
  if (kind === 'interactions') extra.outputs = [{type: 'text', text: 'earlier'}];
  const r = addResource(st, name, json.key, extra);
  if (kind === 'files') return fileJson(st, r);
  if (kind === 'cachedContents') return cacheJson(r);
  return {name: r.name};
}

function generationAnswer(text) {
  return {candidates: [{content: {role: 'model', parts: [{text}]}, finishReason: 'STOP', index: 0}],
          usageMetadata: {promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5},
          modelVersion: 'gemini-2.5-flash'};
}

/** Serves ctx.req when it is a call on one of these resources; returns true when it answered. */
export async function serveResources(ctx) {
  const {req, res, url, st} = ctx;
  let p = url.pathname;
  const download = p.startsWith('/download/');
  if (download) p = p.slice('/download'.length);
  const m = /^\/(v1beta|v1)\/(.*)$/.exec(p);
  if (!m) return false;
  const rest = m[2];
  const key = ctx.key;
  const own = (name) => ownershipError(st, name, key);
  const deny = (e) => (sendJson(res, e.status, e.body), true);
  const base = originOf(req);

  // Files (what the upload module leaves to us).
  if (rest === 'files' && req.method === 'GET') {
    if (!key) return false;
    const files = resourcesOwnedBy(st, 'files/', key).map((r) => fileJson(st, {base, ...r}));
    sendJson(res, 200, files.length ? {files} : {});
    return true;
  }
  let f = /^(files\/[^/:]+)(?::(download))?$/.exec(rest);
  if (f) {
    const name = f[1];
    const e = own(name);
    if (e) return deny(e);
    if (req.method === 'DELETE') { deleteResource(st, name); sendJson(res, 200, {}); return true; }
    if (req.method !== 'GET') return false;
    if (download || f[2] === 'download') {
      const text = `contents of ${name}`;
      res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(text)});
      res.end(text);
      return true;
    }
    sendJson(res, 200, fileJson(st, {base, ...resourceOf(st, name)}));
    return true;
  }

  // Cached contents.
  if (rest === 'cachedContents') {
    if (!key) return false;
    if (req.method === 'GET') {
      const list = resourcesOwnedBy(st, 'cachedContents/', key).filter((r) => r.expiresAt > Date.now()).map(cacheJson);
      sendJson(res, 200, list.length ? {cachedContents: list} : {});
      return true;
    }
    if (req.method !== 'POST') return false;
    const json = parseBody(ctx);
    if (!json || !json.model) { badRequest(res, 'model is required'); return true; }
    for (const n of namesInBody(json)) { const e = own(n); if (e) return deny(e); }
    const ttl = ttlSeconds(json.ttl);
    const expiresAt = json.expireTime ? Date.parse(json.expireTime) : Date.now() + (ttl ?? 3600) * 1000;
    const r = addResource(st, `cachedContents/${newId('')}`, key,
                          {kind: 'cachedContents', model: json.model, displayName: json.displayName, expiresAt,
                           contents: json.contents, systemInstruction: json.systemInstruction});
    sendJson(res, 200, cacheJson(r));
    return true;
  }
  let c = /^(cachedContents\/[^/:]+)$/.exec(rest);
  if (c) {
    const name = c[1];
    const e = own(name);
    if (e) return deny(e);
    const r = resourceOf(st, name);
    if (req.method === 'DELETE') { deleteResource(st, name); sendJson(res, 200, {}); return true; }
    if (req.method === 'PATCH') {
      const json = parseBody(ctx) || {};
      const ttl = ttlSeconds(json.ttl);
      if (json.expireTime) r.expiresAt = Date.parse(json.expireTime);
      else if (ttl !== null) r.expiresAt = Date.now() + ttl * 1000;
      r.updatedAt = Date.now();
    }
    sendJson(res, 200, cacheJson(r));
    return true;
  }

  // Batches.
  if (rest === 'batches' && req.method === 'GET' && key) {
    // Google's ListOperationsResponse: every batch of the calling key.
    const ops = resourcesOwnedBy(st, 'batches/', key).map((r) => batchJson(r, false));
    sendJson(res, 200, ops.length ? {operations: ops} : {});
    return true;
  }
  let b = /^models\/([^/:]+):batchGenerateContent$/.exec(rest);
  if (b && req.method === 'POST') {
    const json = parseBody(ctx);
    if (!json) { badRequest(res, 'Invalid JSON payload received.'); return true; }
    for (const n of namesInBody(json)) { const e = own(n); if (e) return deny(e); }
    const requests = json?.batch?.input_config?.requests?.requests ||
                     json?.batch?.inputConfig?.requests?.requests || [];
    const r = addResource(st, `batches/${newId('')}`, key, {kind: 'batches', model: `models/${b[1]}`,
      displayName: json?.batch?.display_name || json?.batch?.displayName || '', requests, state: 'BATCH_STATE_PENDING'});
    sendJson(res, 200, batchJson(r, false));
    return true;
  }
  b = /^(batches\/[^/:]+)(?::(cancel))?$/.exec(rest);
  if (b) {
    const name = b[1];
    const e = own(name);
    if (e) return deny(e);
    const r = resourceOf(st, name);
    if (req.method === 'DELETE') { deleteResource(st, name); sendJson(res, 200, {}); return true; }
    if (b[2] === 'cancel' && req.method === 'POST') { r.state = 'BATCH_STATE_CANCELLED'; sendJson(res, 200, {}); return true; }
    if (req.method !== 'GET') return false;
    if (r.state === 'BATCH_STATE_PENDING') r.state = 'BATCH_STATE_SUCCEEDED';
    sendJson(res, 200, batchJson(r, true));
    return true;
  }

  // Interactions.
  if (rest === 'interactions' && req.method === 'POST') {
    const json = parseBody(ctx);
    if (!json || !json.model) { badRequest(res, 'model is required'); return true; }
    if (json.previous_interaction_id) {
      const e = own(`interactions/${json.previous_interaction_id}`);
      if (e) return deny(e);
    }
    for (const n of namesInBody(json)) { const e = own(n); if (e) return deny(e); }
    const id = newId('v1_');
    const input = typeof json.input === 'string' ? json.input : JSON.stringify(json.input ?? '');
    const r = addResource(st, `interactions/${id}`, key, {kind: 'interactions', id, model: json.model,
      previous: json.previous_interaction_id || null, outputs: [{type: 'text', text: `echo: ${input}`}]});
    if (json.stream === true) {
      // The event stream of a streamed interaction: created (with the id), content, completed.
      const full = interactionJson(r);
      const events = [
        {event_type: 'interaction.created', interaction: {id: full.id, model: full.model, status: 'in_progress'}},
        {event_type: 'step.start', index: 0, step: {type: 'model_output'}},
        {event_type: 'step.delta', index: 0, delta: {type: 'text', text: full.outputs[0].text}},
        {event_type: 'step.stop', index: 0},
        {event_type: 'interaction.completed', interaction: {...full, outputs: undefined}},
      ];
      res.writeHead(200, {'content-type': 'text/event-stream'});
      for (const e of events) res.write(`event: ${e.event_type}\ndata: ${JSON.stringify(e)}\n\n`);
      res.end('event: done\ndata: [DONE]\n\n');
      return true;
    }
    sendJson(res, 200, interactionJson(r));
    return true;
  }
  let i = /^(interactions\/([^/:]+))$/.exec(rest);
  if (i) {
    const e = own(i[1]);
    if (e) return deny(e);
    if (req.method === 'DELETE') { deleteResource(st, i[1]); sendJson(res, 200, {}); return true; }
    if (req.method !== 'GET') return false;
    sendJson(res, 200, interactionJson(resourceOf(st, i[1])));
    return true;
  }

  // Tuned models and their operations.
  if (rest === 'tunedModels' && req.method === 'GET' && key) {
    const models = resourcesOwnedBy(st, 'tunedModels/', key).filter((r) => !r.name.includes('/operations/'))
        .map((r) => ({name: r.name, state: 'ACTIVE', baseModel: 'models/gemini-2.5-flash'}));
    sendJson(res, 200, models.length ? {tunedModels: models} : {});
    return true;
  }
  if (rest === 'tunedModels' && req.method === 'POST') {
    const t = `tunedModels/${newId('t')}`;
    addResource(st, t, key, {kind: 'tunedModels'});
    const op = `${t}/operations/${newId('o')}`;
    addResource(st, op, key, {kind: 'operations', tunedModel: t});
    sendJson(res, 200, {name: op, metadata: {'@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.CreateTunedModelMetadata', tunedModel: t}});
    return true;
  }
  let t = /^(tunedModels\/[^/:]+)(?:\/operations\/([^/:]+))?(?::([A-Za-z]+))?$/.exec(rest);
  if (t) {
    const name = t[2] ? `${t[1]}/operations/${t[2]}` : t[1];
    const e = own(name);
    if (e) return deny(e);
    if (t[3] === 'generateContent' && req.method === 'POST') {
      sendJson(res, 200, generationAnswer(`tuned ${t[1]}`));
      return true;
    }
    if (req.method === 'DELETE') { deleteResource(st, name); sendJson(res, 200, {}); return true; }
    if (req.method !== 'GET') return false;
    sendJson(res, 200, t[2] ? {name, done: true, response: {name: t[1], state: 'ACTIVE'}}
                            : {name, state: 'ACTIVE', baseModel: 'models/gemini-2.5-flash'});
    return true;
  }

  // Long-running operations of models (video generation).
  let o = /^models\/([^/:]+):predictLongRunning$/.exec(rest);
  if (o && req.method === 'POST') {
    const json = parseBody(ctx);
    const inst = Array.isArray(json?.instances) ? json.instances[0] : undefined;
    if (!inst || typeof inst.prompt !== 'string' || !inst.prompt) {
      badRequest(res, 'instances[0].prompt is required.');
      return true;
    }
    const op = `models/${o[1]}/operations/${newId('o')}`;
    addResource(st, op, key, {kind: 'operations'});
    sendJson(res, 200, {name: op});
    return true;
  }
  o = /^(models\/[^/:]+\/operations\/[^/:]+)$/.exec(rest) || /^(operations\/[^/:]+)$/.exec(rest);
  if (o && req.method === 'GET') {
    const e = own(o[1]);
    if (e) return deny(e);
    const r = resourceOf(st, o[1]);
    if (!r.video) r.video = addResource(st, `files/${newId('v')}`, key, {kind: 'files', mimeType: 'video/mp4'}).name;
    sendJson(res, 200, {name: o[1], done: true, response: {
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
      generateVideoResponse: {generatedSamples: [{video: {uri: `${base}/v1beta/${r.video}:download?alt=media`}}]}}});
    return true;
  }
  return false;
}

function batchJson(r, done) {
  const metadata = {'@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
                    name: r.name, model: r.model, displayName: r.displayName, state: r.state,
                    createTime: new Date(r.createdAt).toISOString()};
  if (!done || r.state !== 'BATCH_STATE_SUCCEEDED') return {name: r.name, metadata, done: false};
  const inlinedResponses = r.requests.map((q, n) => ({metadata: q.metadata, response: generationAnswer(`batch #${n}`)}));
  return {name: r.name, metadata, done: true, response: {
    '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput',
    inlinedResponses: {inlinedResponses}}};
}

function interactionJson(r) {
  return {id: r.id || r.name.slice('interactions/'.length), model: r.model, status: 'completed',
          object: 'interaction', created: new Date(r.createdAt).toISOString(),
          previous_interaction_id: r.previous || undefined, outputs: r.outputs,
          usage: {total_input_tokens: 3, total_output_tokens: 2, total_tokens: 5}};
}

/** For a model call (generateContent, streamGenerateContent, countTokens, ...) with body `json`:
 *  Google's error when it names a file, cached content or interaction another key owns (or that
 *  does not exist), else null. */
export function resourceUseError(ctx, json) {
  for (const name of namesInBody(json)) {
    const e = ownershipError(ctx.st, name, ctx.key);
    if (e) return e;
  }
  return null;
}
