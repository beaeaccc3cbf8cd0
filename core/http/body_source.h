// BodySource: a request body that is still arriving while its request runs (a route with
// `stream_body: true`). The connection produces it as the client sends; one reader (the upstream
// transfer) pulls from it. Memory is bounded by the producer's watermarks, not by the body.
//
// Contract (loop thread only, like everything of one exchange):
//   - read() never blocks: it hands out what is buffered, or says to wait (kWait). After a
//     kWait the reader's wake-up runs once something changed (more bytes, the end, a failure),
//     always on a later loop turn, never from inside read() or push. The reader may call read()
//     from inside the wake-up.
//   - Order of results: any number of byte counts and kWaits, then 0 (the whole body was read)
//     or kFailed (it never will be: the client left, or the connection refused the rest).
//   - Replay: a small prefix of what was read is kept, so a second attempt (a retry on another
//     key, libcurl's rewind on a reused connection that turned out dead) can start over while
//     can_rewind(); once more than that went out, the body cannot be sent twice.
//   - Ownership: shared (std::shared_ptr) by the request, its replay copy and the transfer; the
//     reader clears its wake-up (set_wakeup(nullptr)) before it goes away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace gemgate::http {

class BodySource {
 public:
  static constexpr std::ptrdiff_t kWait = -1;    // nothing buffered now: the wake-up follows
  static constexpr std::ptrdiff_t kFailed = -2;  // the body will never be complete

  virtual ~BodySource() = default;
  // The body's length when the client announced it (Content-Length), else -1 (chunked).
  virtual int64_t length() const = 0;
  // Copies up to `size` bytes of the body into `dest`. Returns the count (> 0), 0 at the end of
  // the body, kWait or kFailed (see the file comment).
  virtual std::ptrdiff_t read(char* dest, size_t size) = 0;
  // Installs the single reader's wake-up (nullptr removes it). See the file comment for when
  // it runs.
  virtual void set_wakeup(std::function<void()> wakeup) = 0;
  // Bytes handed out by read() since the start or the last rewind().
  virtual uint64_t consumed() const = 0;
  // True while every byte read so far is still held, so reading can start over.
  virtual bool can_rewind() const = 0;
  // Starts reading over from the first byte. Returns false (and changes nothing) when
  // can_rewind() is false.
  virtual bool rewind() = 0;
};

}  // namespace gemgate::http
