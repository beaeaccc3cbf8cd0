// The stand-in upstream's other server-side resources (cachedContents, batches, interactions,
// tuned models, long-running operations), owned by the key that created them
// (fake-resources.mjs), and the check that a model call only names resources of its own key.
// Filled in by the affinity lane.

/** Serves ctx.req when it is a call on one of these resources; returns true when it answered. */
export async function serveResources(ctx) {
  return false;
}

/** For a model call (generateContent, streamGenerateContent, countTokens, ...) with body `json`:
 *  Google's error when it names a file, cached content or interaction another key owns (or that
 *  does not exist), else null. */
export function resourceUseError(ctx, json) {
  return null;
}
