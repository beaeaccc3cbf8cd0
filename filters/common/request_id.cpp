#include "filters/common/request_id.h"

#include "core/request_id.h"

namespace gemgate::common {

const std::string& request_id(FilterCallbacks& x) {
  // The server names every exchange it opens; an exchange built by hand (an embedder, a test)
  // gets its id on first use, from the client's header when that is a plain token.
  std::string& id = x.info().request_id;
  if (id.empty()) id = adopt_request_id(x.request().headers.get("x-request-id"));
  return id;
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
