// The stand-in upstream's Files API: the resumable and multipart upload protocols under /upload/,
// and GET/DELETE /v1beta/files[/{id}] and downloads, each file owned by the key that uploaded it
// (fake-resources.mjs). Filled in by the files lane.

/** Serves ctx.req when it is a Files API call; returns true when it answered. */
export async function serveFiles(ctx) {
  return false;
}
