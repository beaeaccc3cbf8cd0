// transports/h2_window: libcurl's calls into nghttp2 resolve to gemgate's cap, and the cap
// holds on a real nghttp2 client session (the library libcurl loaded, reached with dlsym since
// its development headers are not installed): the SETTINGS frame announces 1 MiB instead of
// libcurl's 32 MiB, a stream's window comes back at most 1 MiB after a pause, pausing (0) and
// the connection's window pass unchanged.
#include "transports/h2_window.h"

#include <cstdint>
#include <cstring>
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <string>
#include <sys/types.h>

#include "transports/curl_global.h"

extern "C" {
struct nghttp2_session;
struct nghttp2_session_callbacks;
struct nghttp2_settings_entry {
  int32_t settings_id;
  uint32_t value;
};
struct nghttp2_nv {
  uint8_t* name;
  uint8_t* value;
  size_t namelen;
  size_t valuelen;
  uint8_t flags;
};
int nghttp2_submit_settings(nghttp2_session*, uint8_t, const nghttp2_settings_entry*, size_t);
int nghttp2_session_set_local_window_size(nghttp2_session*, uint8_t, int32_t, int32_t);
}

namespace {

using namespace gemgate::transport;

constexpr int32_t kLibcurlWindow = 32 * 1024 * 1024;  // HTTP2_HUGE_WINDOW_SIZE in libcurl 7.88

// The rest of nghttp2's API, looked up in the library libcurl brought in.
struct Nghttp2 {
  int (*callbacks_new)(nghttp2_session_callbacks**) = nullptr;
  void (*callbacks_del)(nghttp2_session_callbacks*) = nullptr;
  int (*client_new)(nghttp2_session**, const nghttp2_session_callbacks*, void*) = nullptr;
  void (*session_del)(nghttp2_session*) = nullptr;
  ssize_t (*mem_send)(nghttp2_session*, const uint8_t**) = nullptr;
  int32_t (*submit_request)(nghttp2_session*, const void*, const nghttp2_nv*, size_t, const void*,
                            void*) = nullptr;
  int32_t (*stream_window)(nghttp2_session*, int32_t) = nullptr;
  int32_t (*connection_window)(nghttp2_session*) = nullptr;

  Nghttp2() {
    load(callbacks_new, "nghttp2_session_callbacks_new");
    load(callbacks_del, "nghttp2_session_callbacks_del");
    load(client_new, "nghttp2_session_client_new");
    load(session_del, "nghttp2_session_del");
    load(mem_send, "nghttp2_session_mem_send");
    load(submit_request, "nghttp2_submit_request");
    load(stream_window, "nghttp2_session_get_stream_effective_local_window_size");
    load(connection_window, "nghttp2_session_get_effective_local_window_size");
  }
  template <typename Fn>
  static void load(Fn& fn, const char* name) {
    void* found = dlsym(RTLD_DEFAULT, name);
    REQUIRE_MESSAGE(found != nullptr, name);
    fn = reinterpret_cast<Fn>(found);
  }
};

// One client session; pending() is everything it would write to the socket.
struct Session {
  Nghttp2 api;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session* session = nullptr;
  Session() {
    REQUIRE(api.callbacks_new(&callbacks) == 0);
    REQUIRE(api.client_new(&session, callbacks, nullptr) == 0);
  }
  ~Session() {
    api.session_del(session);
    api.callbacks_del(callbacks);
  }
  std::string pending() {
    std::string out;
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = api.mem_send(session, &data);
      REQUIRE(n >= 0);
      if (n == 0) return out;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }
};

// The value of `id` in the first SETTINGS frame of `wire` (after the 24-byte client preface),
// or -1 when it is not there.
int64_t setting_in(const std::string& wire, uint16_t id) {
  size_t at = 24;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(wire.at(i)); };
  while (at + 9 <= wire.size()) {
    size_t len = (size_t(byte(at)) << 16) | (size_t(byte(at + 1)) << 8) | byte(at + 2);
    if (byte(at + 3) == 0x4) {  // SETTINGS
      for (size_t p = at + 9; p + 6 <= at + 9 + len; p += 6) {
        uint16_t got = static_cast<uint16_t>((byte(p) << 8) | byte(p + 1));
        if (got == id)
          return (int64_t(byte(p + 2)) << 24) | (byte(p + 3) << 16) | (byte(p + 4) << 8) |
                 byte(p + 5);
      }
      return -1;
    }
    at += 9 + len;
  }
  return -1;
}

}  // namespace

TEST_CASE("libcurl's nghttp2 calls go through the window cap, and the startup log says so") {
  CHECK(http2_window_capped());
  CHECK(curl_description().find("h2 stream window 1024 KiB") != std::string::npos);
}

TEST_CASE("SETTINGS announces the capped stream window; other settings pass unchanged") {
  Session s;
  nghttp2_settings_entry iv[] = {{0x3, 100}, {0x4, uint32_t(kLibcurlWindow)}, {0x2, 0}};
  REQUIRE(nghttp2_submit_settings(s.session, 0, iv, 3) == 0);
  std::string wire = s.pending();
  CHECK(setting_in(wire, 0x4) == kHttp2StreamWindowBytes);
  CHECK(setting_in(wire, 0x3) == 100);             // MAX_CONCURRENT_STREAMS
  CHECK(setting_in(wire, 0x2) == 0);               // ENABLE_PUSH
  CHECK(iv[1].value == uint32_t(kLibcurlWindow));  // the caller's array is not written to
}

TEST_CASE("SETTINGS with a window at or below the cap is sent as given") {
  Session s;
  nghttp2_settings_entry iv[] = {{0x4, 65535}};
  REQUIRE(nghttp2_submit_settings(s.session, 0, iv, 1) == 0);
  CHECK(setting_in(s.pending(), 0x4) == 65535);
}

TEST_CASE(
    "a stream's window: pausing sets 0, resuming gets the cap back; the connection's is "
    "not capped") {
  Session s;
  nghttp2_settings_entry iv[] = {{0x4, uint32_t(kLibcurlWindow)}};
  REQUIRE(nghttp2_submit_settings(s.session, 0, iv, 1) == 0);
  std::string method = ":method", get = "GET", scheme = ":scheme", https = "https", path = ":path",
              slash = "/", authority = ":authority", host = "x";
  auto nv = [](std::string& n, std::string& v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                      n.size(), v.size(), 0};
  };
  nghttp2_nv head[] = {nv(method, get), nv(scheme, https), nv(path, slash), nv(authority, host)};
  int32_t id = s.api.submit_request(s.session, nullptr, head, 4, nullptr, nullptr);
  REQUIRE(id > 0);
  s.pending();  // the stream exists once its HEADERS went out (65 535 until SETTINGS is acked)
  REQUIRE(nghttp2_session_set_local_window_size(s.session, 0, id, kLibcurlWindow) == 0);
  CHECK(s.api.stream_window(s.session, id) == kHttp2StreamWindowBytes);
  REQUIRE(nghttp2_session_set_local_window_size(s.session, 0, id, 0) == 0);  // libcurl's pause
  CHECK(s.api.stream_window(s.session, id) == 0);
  REQUIRE(nghttp2_session_set_local_window_size(s.session, 0, id, kLibcurlWindow) == 0);
  CHECK(s.api.stream_window(s.session, id) == kHttp2StreamWindowBytes);
  REQUIRE(nghttp2_session_set_local_window_size(s.session, 0, 0, kLibcurlWindow) == 0);
  CHECK(s.api.connection_window(s.session) == kLibcurlWindow);
}
