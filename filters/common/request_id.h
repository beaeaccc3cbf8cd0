// The request id a client can quote when it reports a failure: gemgate's error answers carry it
// (header `x-request-id` and in the message) and the log line with the failure's detail names it,
// so the detail (upstream addresses, transport errors) stays in the log and out of answers.
#pragma once

#include <string>

#include "core/exchange.h"
#include "core/http/message.h"

namespace gemgate::common {

// Returns this exchange's request id (info().request_id, set by the server): the client's own
// `x-request-id` when it is a plain token (core/request_id.h), else a new one made on first use.
// Stable for the whole exchange (replays included). Loop thread only.
const std::string& request_id(FilterCallbacks& x);

// Makes the local error answer a client should see: `message` (plain, no internal detail) with
// " (request id ID)" appended, and the `x-request-id` header set.
http::Response error_with_request_id(FilterCallbacks& x, http::LocalError error);

}  // namespace gemgate::common
