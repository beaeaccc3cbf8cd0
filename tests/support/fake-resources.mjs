// The stand-in upstream's server-side resources (files, cachedContents, batches, interactions,
// tuned models, operations, upload sessions), each owned by the API key that created it, as
// Google's are: a resource named with another key is answered 403 PERMISSION_DENIED (Google does
// not say whether it exists). Shared by fake-gemini-files.mjs (uploads and the Files API) and
// fake-gemini-resources.mjs (the other resource types and the use of resources in model calls).
// The registry lives in the fake's state (st.resources), so POST /__reset clears it.

/** Records `name` ("files/abc") as created by `ownerKey`; `record` is the resource's JSON and
 *  any fields the fake keeps. Returns the stored entry. */
export function addResource(st, name, ownerKey, record = {}) {
  const entry = {name, ownerKey, createdAt: Date.now(), ...record};
  st.resources.set(name, entry);
  return entry;
}

/** The entry for `name`, or undefined. */
export function resourceOf(st, name) {
  return st.resources.get(name);
}

/** Removes `name`; true when it existed. */
export function deleteResource(st, name) {
  return st.resources.delete(name);
}

/** Every entry whose name starts with `prefix` ("files/") and that `ownerKey` owns. */
export function resourcesOwnedBy(st, prefix, ownerKey) {
  return [...st.resources.values()].filter((r) => r.name.startsWith(prefix) && r.ownerKey === ownerKey);
}

/** Google's answer when `key` may not touch `name` (or it does not exist): null when it may. */
export function ownershipError(st, name, key) {
  const r = st.resources.get(name);
  if (r && r.ownerKey === key) return null;
  const what = name.split('/')[0];
  return {status: 403, body: {error: {code: 403, status: 'PERMISSION_DENIED',
    message: `You do not have permission to access the ${what.replace(/s$/, '')} ${name} or it may not exist.`}}};
}
