// Google-shaped error bodies for the stand-in Gemini upstream (fake-gemini.mjs).
//
// Every builder returns {status, body} where body is the object Google sends:
//   {"error": {"code": <http status>, "message": "...", "status": "<google.rpc.Code name>",
//              "details": [ {"@type": "type.googleapis.com/google.rpc.<Type>", ...}, ... ]}}
// The shapes (ErrorInfo reasons, QuotaFailure violations, RetryInfo.retryDelay as "<n>s",
// LocalizedMessage, BadRequest.fieldViolations) follow what generativelanguage.googleapis.com
// returns, so the gateway's error classification is tested against realistic bodies.

const SERVICE = 'generativelanguage.googleapis.com';

/** Wraps one error into Google's envelope. */
export function googleError(code, status, message, details) {
  const error = {code, message, status};
  if (details && details.length) error.details = details;
  return {status: code, body: {error}};
}

function errorInfo(reason, metadata = {}) {
  return {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason,
    domain: 'googleapis.com',
    metadata: {service: SERVICE, ...metadata},
  };
}

function localized(message) {
  return {'@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message};
}

/** 400 INVALID_ARGUMENT / API_KEY_INVALID: the key does not exist (Google's exact wording). */
export function apiKeyInvalid() {
  const msg = 'API key not valid. Please pass a valid API key.';
  return googleError(400, 'INVALID_ARGUMENT', msg, [errorInfo('API_KEY_INVALID'), localized(msg)]);
}

/**
 * 403 PERMISSION_DENIED / CONSUMER_SUSPENDED. Like Google, the message names the consumer,
 * which embeds the API key: a gateway that logs or forwards upstream messages verbatim leaks it.
 */
export function consumerSuspended(key) {
  const consumer = `api_key:${key}`;
  return googleError(403, 'PERMISSION_DENIED',
                     `Permission denied: Consumer '${consumer}' has been suspended.`,
                     [errorInfo('CONSUMER_SUSPENDED', {consumer: `projects/${projectNumber(key)}`}),
                      localized('Permission denied: Consumer has been suspended.')]);
}

/** 403 PERMISSION_DENIED when no credential at all was sent. */
export function unregisteredCaller() {
  return googleError(403, 'PERMISSION_DENIED',
                     "Method doesn't allow unregistered callers (callers without established " +
                         'identity). Please use API Key or other form of API consumer identity to ' +
                         'call this API.');
}

/** 401 UNAUTHENTICATED (e.g. an OAuth bearer that Google does not accept). */
export function unauthenticated() {
  return googleError(401, 'UNAUTHENTICATED',
                     'Request had invalid authentication credentials. Expected OAuth 2 access ' +
                         'token, login cookie or other valid authentication credential. See ' +
                         'https://developers.google.com/identity/sign-in/web/devconsole-project.',
                     [errorInfo('ACCESS_TOKEN_TYPE_UNSUPPORTED', {method: 'GenerateContent'})]);
}

/**
 * 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo details.
 * retryDelaySec: number of seconds put in RetryInfo.retryDelay ("30s"); null omits RetryInfo.
 */
export function quotaExhausted(model, retryDelaySec) {
  const details = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{
        quotaMetric: `${SERVICE}/generate_content_free_tier_requests`,
        quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        quotaDimensions: {location: 'global', model: model || 'gemini-2.5-flash'},
        quotaValue: '10',
      }],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{
        description: 'Learn more about Gemini API quotas',
        url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
      }],
    },
  ];
  let message = 'You exceeded your current quota, please check your plan and billing details. ' +
                'For more information on this error, head to: ' +
                'https://ai.google.dev/gemini-api/docs/rate-limits.';
  if (retryDelaySec !== null && retryDelaySec !== undefined) {
    details.push({'@type': 'type.googleapis.com/google.rpc.RetryInfo',
                  retryDelay: `${retryDelaySec}s`});
    message += ` Please retry in ${retryDelaySec}s.`;
  }
  return googleError(429, 'RESOURCE_EXHAUSTED', message, details);
}

/** 503 UNAVAILABLE, the "model is overloaded" answer. */
export function overloaded() {
  return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
}

/** 500 INTERNAL. */
export function internalError() {
  return googleError(500, 'INTERNAL',
                     'An internal error has occurred. Please retry or report in ' +
                         'https://developers.generativeai.google/guide/troubleshooting');
}

/** 504 DEADLINE_EXCEEDED. */
export function deadlineExceeded() {
  return googleError(504, 'DEADLINE_EXCEEDED',
                     'The request timed out. Please try again.');
}

/** 404 NOT_FOUND for an unknown model or a method the model does not support. */
export function modelNotFound(model, apiVersion, method) {
  return googleError(404, 'NOT_FOUND',
                     `models/${model} is not found for API version ${apiVersion}, or is not ` +
                         `supported for ${method}. Call ListModels to see the list of available ` +
                         'models and their supported methods.');
}

/** 400 INVALID_ARGUMENT for a body that is not JSON (the client's mistake). */
export function invalidJson(detail) {
  const msg = `Invalid JSON payload received. ${detail || 'Unexpected token.'}`;
  return googleError(400, 'INVALID_ARGUMENT', msg, [{
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: [{description: msg}],
  }]);
}

/** 400 INVALID_ARGUMENT for a well-formed JSON request that breaks a field rule. */
export function invalidArgument(message) {
  return googleError(400, 'INVALID_ARGUMENT', message);
}

/** The Google error for an arbitrary HTTP status (used by the [[status=N]] directive). */
export function errorForStatus(code, model) {
  switch (code) {
    case 400: return invalidArgument('Request contains an invalid argument.');
    case 401: return unauthenticated();
    case 403: return googleError(403, 'PERMISSION_DENIED',
                                 'The caller does not have permission');
    case 404: return modelNotFound(model || 'unknown', 'v1beta', 'generateContent');
    case 429: return quotaExhausted(model, 30);
    case 500: return internalError();
    case 503: return overloaded();
    case 504: return deadlineExceeded();
    default: return googleError(code, code >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION',
                                `Fake upstream error ${code}.`);
  }
}

/** A fake, stable project number derived from a key (only used inside messages). */
function projectNumber(key) {
  let h = 7;
  for (const c of String(key)) h = (h * 31 + c.charCodeAt(0)) % 1000000007;
  return String(100000000000 + h);
}
