// libcurl 7.88 (Debian 12) announces a 32 MiB initial window for every HTTP/2 stream and has no
// option to change it. It pauses a stream (our Transfer::pause, when the client stops reading)
// by shrinking that stream's window to 0, which takes back no credit already granted: while
// other streams keep the session's socket busy, the paused stream's data keeps arriving and
// libcurl holds it in the transfer's pause buffer, up to 32 MiB per stream.
//
// The two nghttp2 functions through which libcurl sets a stream's window are defined here as
// well. libcurl calls them through its PLT, and a definition in the executable comes first in
// the dynamic linker's search, so these run instead and call nghttp2's own (dlsym RTLD_NEXT)
// with the stream window capped at kHttp2StreamWindowBytes:
// - nghttp2_submit_settings: SETTINGS_INITIAL_WINDOW_SIZE (every new stream's window);
// - nghttp2_session_set_local_window_size for a stream (not the connection, stream 0): the
//   window a resumed stream gets back (pausing sets 0, which passes unchanged).
// nghttp2's types are declared here (its development headers are not installed); the layout of
// nghttp2_settings_entry and the settings id are fixed by its stable ABI and RFC 9113.
#include "transports/h2_window.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <dlfcn.h>
#include <vector>

extern "C" {

struct nghttp2_session;
struct nghttp2_settings_entry {
  int32_t settings_id;
  uint32_t value;
};

int nghttp2_submit_settings(nghttp2_session* session, uint8_t flags,
                            const nghttp2_settings_entry* iv, size_t niv);
int nghttp2_session_set_local_window_size(nghttp2_session* session, uint8_t flags,
                                          int32_t stream_id, int32_t window_size);

}  // extern "C"

namespace {

constexpr int32_t kSettingsInitialWindowSize = 0x4;  // RFC 9113, 6.5.2
constexpr int kErrInvalidState = -519;               // NGHTTP2_ERR_INVALID_STATE

using SubmitSettings = int (*)(nghttp2_session*, uint8_t, const nghttp2_settings_entry*, size_t);
using SetLocalWindowSize = int (*)(nghttp2_session*, uint8_t, int32_t, int32_t);

// nghttp2's own definition of `name`: the next one after the executable's in search order.
template <typename Fn>
Fn next_definition(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

SubmitSettings real_submit_settings() {
  static const SubmitSettings fn = next_definition<SubmitSettings>("nghttp2_submit_settings");
  return fn;
}

SetLocalWindowSize real_set_local_window_size() {
  static const SetLocalWindowSize fn =
      next_definition<SetLocalWindowSize>("nghttp2_session_set_local_window_size");
  return fn;
}

}  // namespace

extern "C" int nghttp2_submit_settings(nghttp2_session* session, uint8_t flags,
                                       const nghttp2_settings_entry* iv, size_t niv) {
  SubmitSettings real = real_submit_settings();
  if (!real) return kErrInvalidState;
  constexpr auto kCap = static_cast<uint32_t>(gemgate::transport::kHttp2StreamWindowBytes);
  bool over = false;
  for (size_t i = 0; i < niv; ++i)
    over |= iv[i].settings_id == kSettingsInitialWindowSize && iv[i].value > kCap;
  if (!over) return real(session, flags, iv, niv);
  std::vector<nghttp2_settings_entry> capped(iv, iv + niv);  // once per session: no hot path
  for (auto& e : capped)
    if (e.settings_id == kSettingsInitialWindowSize) e.value = std::min(e.value, kCap);
  return real(session, flags, capped.data(), capped.size());
}

extern "C" int nghttp2_session_set_local_window_size(nghttp2_session* session, uint8_t flags,
                                                     int32_t stream_id, int32_t window_size) {
  SetLocalWindowSize real = real_set_local_window_size();
  if (!real) return kErrInvalidState;
  if (stream_id != 0)
    window_size = std::min(window_size, gemgate::transport::kHttp2StreamWindowBytes);
  return real(session, flags, stream_id, window_size);
}

namespace gemgate::transport {

bool http2_window_capped() {
  // What libcurl's reference resolves to is what the process-wide lookup finds first.
  void* found = dlsym(RTLD_DEFAULT, "nghttp2_session_set_local_window_size");
  return found == reinterpret_cast<void*>(&::nghttp2_session_set_local_window_size) &&
         real_set_local_window_size() != nullptr && real_submit_settings() != nullptr;
}

}  // namespace gemgate::transport
