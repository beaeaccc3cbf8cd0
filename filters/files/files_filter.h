// The `files` filter: Google's upload protocols through the gateway (POST /upload/v1beta/files,
// also under a path prefix such as /gemini). It sits above `keys` in the upload chain and decides
// from the request head alone (command, upload id), so it works the same on a buffered and on a
// streamed body:
//   - a new upload (resumable `start`, multipart, media) goes to Google on whatever key `keys`
//     picks; the X-Goog-Upload-URL Google answers `start` with is replaced by an opaque gateway
//     URL (the client's own origin and path prefix, `?upload_id=<sealed ticket>`, see
//     upload_ticket.h) bound to the key that served and to the client token;
//   - a request on a gateway upload URL (`upload`, `upload, finalize`, `query`, `cancel`) is
//     opened: a forged, altered, expired or other token's id is answered 404 NOT_FOUND and never
//     reaches Google; a valid one pins the call to the session's key (common::KeyPin: the key
//     gone or disabled -> 409, cooling -> 503) and is sent to Google's session.
// The upstream filter below must forward the upload headers (`forward_upload_headers: true`).
//
// Config:
//   session_ttl: 48h               # how long a gateway upload URL stays valid
//   trust_forwarded_proto: false   # take the URL's scheme from X-Forwarded-Proto (behind a TLS
//                                  # proxy you trust); otherwise http
#pragma once

#include "core/registry.h"

namespace gemgate::files {

// Registers the `files` filter. The sealing secret is the DocumentStore service's mac_secret()
// (derived from the master key, so every gateway of a group opens every other's upload URLs);
// without that service, a random secret of this process (its URLs die with it).
Result<void> register_files_filter(Registry& registry);

}  // namespace gemgate::files
