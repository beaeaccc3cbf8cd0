// The receive window gemgate grants each HTTP/2 stream from an upstream, in place of libcurl
// 7.88's 32 MiB. See h2_window.cpp for how, and transports/README.md ("HTTP/2 stream window")
// for why.
#pragma once

#include <cstdint>

namespace gemgate::transport {

// The most one HTTP/2 stream may have in flight from the upstream before gemgate has taken it:
// the initial stream window announced in SETTINGS and the window a resumed stream gets back.
// A paused stream (its client stopped reading) can therefore receive at most this much more
// before flow control holds the upstream back; the connection's own window is not changed.
inline constexpr int32_t kHttp2StreamWindowBytes = 1 << 20;

// Returns true when libcurl's calls into nghttp2 go through gemgate's window cap (the
// executable's definitions interpose the shared library's). The startup log states it; false
// means the cap is not in force and a paused stream can again buffer up to 32 MiB.
bool http2_window_capped();

}  // namespace gemgate::transport
