// The `auth` filter: who is calling. Takes the client's token from the configured places —
// `?key=` (query), `x-goog-api-key` (goog_header) or `Authorization: Bearer` (bearer) — and
// checks it against the allowed client tokens, which are held only as SHA-256 hashes. Missing or
// wrong → 401, decided from the request head before any byte of the body is read (the
// connection then closes instead of reading the body). On success the credential is removed from
// the request, so it can never travel upstream, and the token id is recorded for logs and last-used
// times.
//
// Config:   sources: [query, goog_header, bearer]   (default: all three, in that order)
#pragma once

#include "core/registry.h"

namespace gemgate::auth {

// Registers the `auth` filter. Needs services: PublishedCredentials (required),
// CredentialUsage (optional).
Result<void> register_auth_filter(Registry& registry);

}  // namespace gemgate::auth
