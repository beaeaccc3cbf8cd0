// DeferredFailure: the Transfer returned when a transfer cannot even start (closed transport,
// bad URL, libcurl setup error). Transport::start() must never call the handler itself, so this
// reports the failure from a zero-delay timer on the next loop turn, unless it is destroyed first.
#pragma once

#include <memory>
#include <uv.h>

#include "transports/transport.h"

namespace gemgate::transport::detail {

// Returns a Transfer that calls handler.on_upstream_done(&failure) on a later loop turn.
std::unique_ptr<Transfer> make_deferred_failure(uv_loop_t* loop, UpstreamHandler& handler,
                                                Failure failure);

}  // namespace gemgate::transport::detail
