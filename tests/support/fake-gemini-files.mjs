// The stand-in upstream's Files API: the resumable and multipart upload protocols under /upload/,
// and GET/DELETE /v1beta/files[/{id}], the list (pageSize, pageToken) and downloads
// (GET /v1beta/files/{id}:download?alt=media), each file owned by the key that uploaded it
// (fake-resources.mjs: another key gets Google's 403). Bytes are kept in memory.
//
// RESUMABLE (as Google and @google/genai speak it):
//   POST /upload/v1beta/files  X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start,
//        X-Goog-Upload-Header-Content-Length: N, X-Goog-Upload-Header-Content-Type: T,
//        body {"file": {"displayName": ...}}
//     → 200, X-Goog-Upload-URL: http://<fake host>/upload/v1beta/files?upload_id=<id>&upload_protocol=resumable,
//       X-Goog-Upload-Status: active, X-Goog-Upload-Chunk-Granularity: 8388608, empty body.
//   POST <upload URL>  X-Goog-Upload-Command: upload | "upload, finalize", X-Goog-Upload-Offset: O
//     → offset ≠ bytes received: 400 INVALID_ARGUMENT (status header active);
//       upload: 200, status active, X-Goog-Upload-Size-Received; finalize: 200, status final,
//       body {"file": {...}} (a size other than the announced one: 400).
//   POST <upload URL>  X-Goog-Upload-Command: query → status (active/final), size received.
//   POST <upload URL>  X-Goog-Upload-Command: cancel → status cancelled; the session is gone.
//   An unknown upload_id → 404 NOT_FOUND. A session is owned by the key that started it: any
//   other key → 403 (so a test sees a chunk that went to the wrong key).
// MULTIPART: POST /upload/v1beta/files with X-Goog-Upload-Protocol: multipart (or
//   ?uploadType=multipart) and Content-Type: multipart/related; boundary=B — a JSON metadata
//   part ({"file": {...}}) then the bytes → 200 {"file": {...}}.
// FAULTS: POST /__control/script {match: {pathIncludes: '/upload/'}, reset: true} makes the
// upstream die on the next upload call. A displayName containing [[reset_chunk=N]] resets the
// connection on that session's N-th upload call (0-based), once, before counting its bytes —
// for clients such as the SDKs that cannot be scripted between their calls.

import crypto from 'node:crypto';
import * as E from './fake-gemini-errors.mjs';
import {fileJson} from './fake-gemini-resources.mjs';
import {originOf, resetStream} from './fake-gemini-tls.mjs';
import {addResource, deleteResource, ownershipError, resourceOf, resourcesOwnedBy} from './fake-resources.mjs';

export const CHUNK_GRANULARITY = 8 * 1024 * 1024;
const FILE_TTL_MS = 48 * 3600 * 1000;

/** Serves ctx.req when it is a Files API call; returns true when it answered. */
export async function serveFiles(ctx) {
  const path = ctx.url.pathname;
  if (/^\/upload\/(v1beta|v1)\/files\/?$/.test(path)) {
    if (!ctx.key) return reply(ctx, E.unregisteredCaller()), true;
    await serveUpload(ctx);
    return true;
  }
  const m = path.match(/^\/(v1beta|v1)\/files(?:\/([^\/:]+)(?::(download))?)?\/?$/);
  if (!m) return false;
  if (!ctx.key) return reply(ctx, E.unregisteredCaller()), true;
  const [, , id, action] = m;
  const method = ctx.req.method;
  if (!id && method === 'GET') return listFiles(ctx), true;
  if (!id) return reply(ctx, notFound(`Method ${method} on ${path} is not supported.`)), true;
  const name = `files/${id}`;
  const denied = ownershipError(ctx.st, name, ctx.key);
  if (denied) return reply(ctx, denied), true;
  const file = resourceOf(ctx.st, name);
  // A file the resources module made (a control call, a generated video) has no bytes here:
  // that module serves it.
  if (!file.json) return false;
  if (action === 'download' && method === 'GET') {
    ctx.res.writeHead(200, {'content-type': file.json.mimeType, 'content-length': file.bytes.length});
    ctx.res.end(file.bytes);
  } else if (!action && method === 'GET') {
    json(ctx, 200, file.json);
  } else if (!action && method === 'DELETE') {
    deleteResource(ctx.st, name);
    json(ctx, 200, {});
  } else {
    reply(ctx, notFound(`Method ${method} on ${path} is not supported.`));
  }
  return true;
}

async function serveUpload(ctx) {
  const {req, url} = ctx;
  const protocol = String(req.headers['x-goog-upload-protocol'] || '').toLowerCase();
  const uploadId = url.searchParams.get('upload_id');
  if (uploadId) return serveSession(ctx, uploadId);
  if (protocol === 'multipart' || url.searchParams.get('uploadType') === 'multipart') {
    return serveMultipart(ctx);
  }
  const command = String(req.headers['x-goog-upload-command'] || '').toLowerCase();
  if (protocol !== 'resumable' || command !== 'start') {
    return reply(ctx, E.invalidArgument('Upload requests need X-Goog-Upload-Protocol resumable ' +
                                        "with command 'start', or multipart."));
  }
  let meta = {};
  if (ctx.body.length) {
    try { meta = JSON.parse(ctx.body.toString('utf8')).file || {}; }
    catch { return reply(ctx, E.invalidJson('upload metadata')); }
  }
  const declared = req.headers['x-goog-upload-header-content-length'];
  const id = crypto.randomBytes(24).toString('base64url');
  addResource(ctx.st, `uploads/${id}`, ctx.key, {
    meta, received: 0, chunks: [], state: 'active',
    declaredSize: declared === undefined ? null : Number(declared),
    mimeType: req.headers['x-goog-upload-header-content-type'] || meta.mimeType || 'application/octet-stream',
  });
  const origin = originOf(req);
  ctx.res.writeHead(200, {
    'x-goog-upload-url': `${origin}/upload/${ctx.url.pathname.split('/')[2]}/files?upload_id=${id}&upload_protocol=resumable`,
    'x-goog-upload-control-url': `${origin}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
    'x-goog-upload-status': 'active',
    'x-goog-upload-chunk-granularity': String(CHUNK_GRANULARITY),
    'content-length': 0,
  });
  ctx.res.end();
}

function serveSession(ctx, uploadId) {
  const {st, req} = ctx;
  const session = resourceOf(st, `uploads/${uploadId}`);
  if (!session) {
    return reply(ctx, E.googleError(404, 'NOT_FOUND', 'The upload session was not found.'));
  }
  const denied = ownershipError(st, `uploads/${uploadId}`, ctx.key);
  if (denied) return reply(ctx, denied);
  const command = String(req.headers['x-goog-upload-command'] || '').toLowerCase()
      .split(',').map((s) => s.trim()).filter(Boolean);
  const status = (extra = {}) => ({'x-goog-upload-status': session.state,
                                   'x-goog-upload-size-received': String(session.received), ...extra});
  if (command.includes('query')) {
    ctx.res.writeHead(200, {...status(), 'content-length': 0});
    return ctx.res.end();
  }
  if (command.includes('cancel')) {
    session.state = 'cancelled';
    deleteResource(st, `uploads/${uploadId}`);
    ctx.res.writeHead(200, {...status(), 'content-length': 0});
    return ctx.res.end();
  }
  if (session.state !== 'active') {
    return reply(ctx, E.invalidArgument(`The upload session is ${session.state}.`), status());
  }
  if (!command.includes('upload')) {
    return reply(ctx, E.invalidArgument(`Unknown X-Goog-Upload-Command '${req.headers['x-goog-upload-command']}'.`),
                 status());
  }
  const fault = String(session.meta.displayName || '').match(/\[\[reset_chunk=(\d+)\]\]/);
  session.uploadCalls = (session.uploadCalls || 0) + 1;
  if (fault && !session.faulted && session.uploadCalls - 1 === Number(fault[1])) {
    session.faulted = true;
    ctx.serverReset = true;
    st.resets++;
    if (resetStream(req)) return;  // HTTP/2: RST_STREAM on this stream only
    const sock = req.socket;
    return typeof sock.resetAndDestroy === 'function' ? sock.resetAndDestroy() : sock.destroy();
  }
  const offset = Number(req.headers['x-goog-upload-offset']);
  if (!Number.isInteger(offset) || offset !== session.received) {
    return reply(ctx, E.invalidArgument(`Invalid X-Goog-Upload-Offset ${req.headers['x-goog-upload-offset']}: ` +
                                        `${session.received} bytes were received.`), status());
  }
  session.chunks.push(ctx.body);
  session.received += ctx.body.length;
  if (!command.includes('finalize')) {
    ctx.res.writeHead(200, {...status(), 'content-length': 0});
    return ctx.res.end();
  }
  const bytes = Buffer.concat(session.chunks);
  if (session.declaredSize !== null && session.declaredSize !== bytes.length) {
    return reply(ctx, E.invalidArgument(`The upload has ${bytes.length} bytes, ` +
                                        `${session.declaredSize} were announced.`), status());
  }
  session.state = 'final';
  session.chunks = [];
  const file = createFile(ctx, session.meta, session.mimeType, bytes);
  session.file = file.name;
  json(ctx, 200, {file}, status());
}

function serveMultipart(ctx) {
  const type = String(ctx.req.headers['content-type'] || '');
  const b = type.match(/boundary="?([^";]+)"?/i);
  if (!/^multipart\/related/i.test(type) || !b) {
    return reply(ctx, E.invalidArgument('A multipart upload needs Content-Type multipart/related with a boundary.'));
  }
  const parts = splitMultipart(ctx.body, b[1]);
  if (!parts || parts.length !== 2) {
    return reply(ctx, E.invalidArgument('A multipart upload has a metadata part and a media part.'));
  }
  let meta;
  try { meta = JSON.parse(parts[0].body.toString('utf8')).file || {}; }
  catch { return reply(ctx, E.invalidJson('multipart metadata')); }
  const mime = parts[1].headers['content-type'] || meta.mimeType || 'application/octet-stream';
  json(ctx, 200, {file: createFile(ctx, meta, mime, parts[1].body)});
}

/** The parts of a multipart body [{headers, body}], or null when it is malformed. */
export function splitMultipart(body, boundary) {
  const delim = Buffer.from(`--${boundary}`);
  const parts = [];
  let at = body.indexOf(delim);
  if (at < 0) return null;
  for (;;) {
    at += delim.length;
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    if (body.subarray(at, at + 2).toString() !== '\r\n') return null;
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return null;
    const headers = {};
    for (const line of body.subarray(at, headEnd).toString('utf8').split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return null;
    parts.push({headers, body: body.subarray(headEnd + 4, next)});
    at = next + 2;
  }
}

function createFile(ctx, meta, mimeType, bytes) {
  const id = (meta.name ? String(meta.name).replace(/^files\//, '') : '') ||
             crypto.randomBytes(9).toString('hex').slice(0, 12);
  const name = `files/${id}`;
  const now = new Date();
  const origin = `http://${ctx.req.headers.host}`;
  const file = {
    name,
    ...(meta.displayName ? {displayName: meta.displayName} : {}),
    mimeType: String(mimeType).split(';')[0],
    sizeBytes: String(bytes.length),
    createTime: now.toISOString(),
    updateTime: now.toISOString(),
    expirationTime: new Date(now.getTime() + FILE_TTL_MS).toISOString(),
    sha256Hash: crypto.createHash('sha256').update(bytes).digest('base64'),
    uri: `${origin}/v1beta/${name}`,
    downloadUri: `${origin}/v1beta/${name}:download?alt=media`,
    state: 'ACTIVE',
    source: 'UPLOADED',
  };
  addResource(ctx.st, name, ctx.key, {json: file, bytes});
  return file;
}

function listFiles(ctx) {
  const size = Math.min(Math.max(Number(ctx.url.searchParams.get('pageSize')) || 10, 1), 100);
  const token = ctx.url.searchParams.get('pageToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) return reply(ctx, E.invalidArgument('Invalid page token.'));
  const all = resourcesOwnedBy(ctx.st, 'files/', ctx.key).sort((a, b) => b.createdAt - a.createdAt);
  const base = `http://${ctx.req.headers.host}`;
  const page = all.slice(start, start + size).map((r) => r.json ?? fileJson(ctx.st, {base, ...r}));
  const out = page.length ? {files: page} : {};
  if (start + size < all.length) out.nextPageToken = Buffer.from(String(start + size)).toString('base64url');
  json(ctx, 200, out);
}

function notFound(message) {
  return E.googleError(404, 'NOT_FOUND', message);
}

function json(ctx, status, obj, headers = {}) {
  const text = JSON.stringify(obj, null, 2) + '\n';
  ctx.res.writeHead(status, {'content-type': 'application/json; charset=UTF-8',
                             'content-length': Buffer.byteLength(text), ...headers});
  ctx.res.end(text);
}

function reply(ctx, err, headers = {}) {
  json(ctx, err.status, err.body, headers);
}
