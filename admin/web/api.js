// The admin API client. Every call is same-origin with the session cookie and a JSON content
// type (the server's CSRF rule for POST/PATCH/DELETE). A 401 sends the browser to the login
// page. Errors become ApiError with the server's message and, for validation, the field name.

import {buildQuery} from './format.js';

export const LOGIN_PAGE = '/admin/login';

/** An answer other than 2xx: status, the server's message and the offending field (if any). */
export class ApiError extends Error {
  constructor(status, message, field, retryAfter) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls /admin/api/<path>. opts: method (GET), query (object), body (object → JSON),
 * noRedirect (do not leave the page on 401, for the login page). Resolves to the parsed JSON
 * ({} for an empty body); rejects with ApiError (status 0 when the network failed).
 */
export async function api(path, {method = 'GET', query, body, noRedirect = false} = {}) {
  let res;
  try {
    res = await fetch(`/admin/api/${path}${buildQuery(query)}`, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: {'content-type': 'application/json', 'accept': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, e.message || 'network error');
  }
  const text = await res.text();
  let data = {};
  if (text) {
    try { data = JSON.parse(text); } catch { data = {}; }
  }
  if (res.status === 401 && !noRedirect) {
    window.location.assign(LOGIN_PAGE);
    // Keep the caller waiting: the page is being replaced.
    return new Promise(() => {});
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.message, err.field, res.headers.get('retry-after'));
  }
  return data;
}

export const get = (path, query) => api(path, {query});
export const post = (path, body = {}) => api(path, {method: 'POST', body});
export const patch = (path, body) => api(path, {method: 'PATCH', body});
export const del = (path, body) => api(path, {method: 'DELETE', body});
