// UpstreamAttempt: how the current upstream attempt ended below the HTTP level — the typed slot
// through which the terminal `upstream` filter tells the filters above it (notably `keys`) that
// the transport failed, instead of a name in StreamInfo that had to be parsed back.
//
// Lives in the exchange's run slot (x.run_slot<UpstreamAttempt>()): `keys` resets it before each
// attempt, `upstream` fills it when the transfer fails, `keys` reads it on the response path.
// An attempt that produced an HTTP answer leaves `failure` empty.
#pragma once

#include <optional>
#include <string>

#include "transports/transport.h"

namespace gemgate::upstream {

struct UpstreamAttempt {
  std::optional<transport::FailureKind> failure;  // set when the transport failed
  std::string message;            // the transport's detail: for logs only, never for clients
  bool response_started = false;  // a response head had arrived before the failure

  // The failure's stable name for logs ("connect", "timeout", ...), "" when there was none.
  const char* failure_name() const { return failure ? transport::failure_kind_name(*failure) : ""; }
};

// The proxy of the pool key the current attempt uses, in the run slot like UpstreamAttempt:
// `keys` sets it before each attempt (empty when the key has none), `upstream` sends the attempt
// through it when set, else through the upstream_proxy setting / environment rules. A secret
// (it may carry a password): never logged.
struct AttemptProxy {
  std::string url;
};

}  // namespace gemgate::upstream
