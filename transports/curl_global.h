// Process-wide libcurl setup. curl_global_init() must run once, before any thread uses libcurl;
// main() calls global_init() first thing, and CurlMultiTransport::create() calls it again as a
// harmless safety net.
#pragma once

#include <string>

#include "core/result.h"

namespace gemgate::transport {

// Initialises libcurl once per process (later calls return the first call's outcome).
// Thread-safe. There is no matching cleanup: libcurl's global state lives until exit, which
// avoids tearing it down under threads that might still use it.
Result<void> global_init();

// Returns libcurl's version and the features gemgate cares about, e.g.
// "libcurl/7.88.1 OpenSSL/3.0 (http2 yes, zlib yes, async-dns yes, h2 stream window 1024 KiB)",
// for the startup log (the last item says whether h2_window.h's cap is in force).
std::string curl_description();

}  // namespace gemgate::transport
