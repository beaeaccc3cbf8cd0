// Where finished requests and failed upstream attempts are reported. Core defines only the
// interface; the composition root connects it to storage (request and error log tables).
#pragma once

#include <cstdint>
#include <string>

#include "core/stream_info.h"

namespace gemgate {

// One failed upstream attempt (a key that hit its quota, an upstream 5xx, a timeout, ...).
struct AttemptFailure {
  int64_t time_ms = 0;
  int64_t key_id = -1;
  std::string model;
  int status = 0;       // upstream status, 0 for transport failures
  std::string kind;     // "quota", "key_invalid", "upstream_5xx", "timeout", "connect", ...
  std::string message;  // short, redacted
  std::string route;
};

class LogSink {
 public:
  virtual ~LogSink() = default;
  // A request finished (any outcome). Must not block: implementations queue. Thread-safe.
  virtual void record_request(const StreamInfo& info) = 0;
  // An upstream attempt failed. Must not block. Thread-safe.
  virtual void record_attempt_failure(const AttemptFailure& failure) = 0;
  // A request was refused before authentication (no valid client token). Sinks that keep
  // stored logs should count these rather than store a row each: anyone can send them at line
  // rate. The default treats it as any other request. Must not block. Thread-safe.
  virtual void record_refused(const StreamInfo& info) { record_request(info); }
};

}  // namespace gemgate
