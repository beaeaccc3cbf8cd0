#include "filters/common/request_id.h"

#include "core/crypto.h"

namespace gemgate::common {

namespace {

struct RequestId {
  std::string value;
};

bool plain_token(std::string_view s) {
  if (s.size() < 8 || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const std::string& request_id(FilterCallbacks& x) {
  RequestId& id = x.slot<RequestId>();
  if (id.value.empty()) {
    const std::string* given = x.request().headers.get("x-request-id");
    // A client's id helps it correlate; anything odd (a header injection, a huge value) is
    // replaced rather than echoed.
    id.value = given && plain_token(*given) ? *given : crypto::random_token("req-", 9);
  }
  return id.value;
}

http::Response error_with_request_id(FilterCallbacks& x, http::LocalError error) {
  const std::string& id = request_id(x);
  error.message += " (request id " + id + ")";
  http::Response r;
  r.status = error.status;
  r.headers.set("x-request-id", id);
  r.local_error = std::move(error);
  return r;
}

}  // namespace gemgate::common
