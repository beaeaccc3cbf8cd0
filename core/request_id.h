// Request ids: the token a client quotes when it reports a problem. Every response carries one in
// `x-request-id`, the access line and the stored request-log row name it, so the detail of a
// failure (upstream addresses, transport errors) can stay in the log and out of answers.
#pragma once

#include <string>
#include <string_view>

namespace gemgate {

// True when `id` may be adopted from a client: 8 to 64 characters of [A-Za-z0-9._-]. Anything
// else (a header injection attempt, a huge value, odd bytes) is replaced, never echoed.
bool valid_request_id(std::string_view id);

// Returns a new unique id, "req-" followed by 16 characters: a random per-thread prefix made
// once from the kernel's CSPRNG and a per-thread counter, so the hot path makes no system call.
// Thread-safe.
std::string new_request_id();

// Returns `given` when valid_request_id(given), else new_request_id(). `given` may be null.
std::string adopt_request_id(const std::string* given);

}  // namespace gemgate
