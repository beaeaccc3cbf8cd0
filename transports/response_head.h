// ResponseHead: assembles the response head from the header lines libcurl hands to
// CURLOPT_HEADERFUNCTION, one complete line per call. It skips interim 1xx heads, lower-cases
// names, unfolds obsolete line folding and enforces a byte cap over everything it was fed, so a
// server cannot grow our memory with endless or oversized headers. Pure: no libcurl, no libuv.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/headers.h"

namespace gemgate::transport::detail {

class ResponseHead {
 public:
  enum class Step {
    kMore,       // keep feeding lines
    kComplete,   // the final head ended (blank line): status() and headers() are ready
    kTooLarge,   // more than max_bytes were fed: fail the transfer
    kMalformed,  // the status line could not be read: fail the transfer
  };

  // Forgets everything and sets the byte cap for the next response (0: no cap of ours).
  void reset(size_t max_bytes);

  // Takes one header line as received (CRLF or LF included, or not) and says what it completed.
  Step feed(std::string_view line);

  // Status of the head being read or completed; 0 before a status line was seen.
  int status() const { return status_; }
  // Moves the fields collected so far (names lower-case, in arrival order) into a HeaderMap.
  http::HeaderMap take_headers();
  size_t bytes() const { return bytes_; }
  size_t max_bytes() const { return max_bytes_; }

 private:
  size_t max_bytes_ = 0;
  size_t bytes_ = 0;
  int status_ = 0;
  bool in_head_ = false;
  std::vector<http::HeaderMap::Entry> fields_;
};

// Parses the code of an HTTP status line ("HTTP/1.1 200 OK", "HTTP/2 204"); 0 when it is not one.
int parse_status_line(std::string_view line);

// Removes the fields that stop describing the body once libcurl has decoded it: content-encoding
// and content-length when a content coding was applied, and transfer-encoding always (libcurl
// removed the chunked framing).
void strip_decoded_body_fields(http::HeaderMap& headers);

}  // namespace gemgate::transport::detail
