// HeldStream<Translator>: a front's stream translator (OpenAI chat, Anthropic Messages, OpenAI
// Responses) driven by the response path, with the stream's head held until the first translated
// event. A stream that fails at once — every key refused, the upstream down, an empty stream — is
// then answered as a plain HTTP error in the front's shape, which SDKs retry, instead of a 200
// whose only event is an error, which they cannot.
//
// Use, from an op's hooks:
//   on_response_head: `return held_.begin(x.response(), <translator args>...);`   (Status::Stop)
//   on_response_data: `if (!held_) return;`
//                     `held_.translate(x, chunk, last, to_error);`   (feed, then fail or finish)
//                     ...anything that reads the finished translator (held_->...)...
//                     `held_.release_head(x, chunk, last, error_response, fallback_error);`
//
// The Translator needs: feed(string_view, string& out), finish(string& out), fail(Error, string&
// out), started(), failed(), and error() returning something that tests true and dereferences to
// the Error it failed with (a pointer or an optional).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "core/filter.h"
#include "core/filter_callbacks.h"

namespace gemgate {

template <class Translator>
class HeldStream {
 public:
  // Starts translating a streamed answer: makes the translator from `args`, marks `r` as an SSE
  // stream and parks the head (the caller returns the Status::Stop this gives). The head goes out
  // in release_head(), or is replaced there by an error answer.
  template <class... Args>
  Status begin(http::Response& r, Args&&... args) {
    translator_.emplace(std::forward<Args>(args)...);
    r.headers.set("content-type", "text/event-stream; charset=utf-8");
    r.headers.set("cache-control", "no-cache");
    holding_ = true;
    return Status::Stop;
  }

  // True while there is a stream to translate (false for a whole answer, and after the head was
  // replaced by an error).
  explicit operator bool() const { return translator_.has_value(); }
  Translator* operator->() { return &*translator_; }
  const Translator* operator->() const { return &*translator_; }

  // Replaces `chunk` (upstream bytes) with its translation. On the last chunk the stream is
  // finished, or failed with `to_error(failure)` when the transfer broke (the failure is then
  // marked handled: the translator wrote the front's own error event). Requires *this.
  template <class ToError>
  void translate(FilterCallbacks& x, std::string& chunk, bool last, ToError&& to_error) {
    std::string out;
    if (!chunk.empty()) translator_->feed(chunk, out);
    if (last) {
      if (const http::LocalError* failure = x.stream_failure()) {
        translator_->fail(to_error(*failure), out);
      } else {
        translator_->finish(out);
      }
      if (translator_->failed()) x.mark_stream_failure_handled();
    }
    chunk = std::move(out);
  }

  // While the head is held, after translate(): once the stream has started (an event is in
  // `chunk`) the head goes out with it, and a failure after that keeps the stream shape (the
  // error is an event). A stream that failed — or ended without a single event — before starting
  // becomes the whole answer `error_response(error)`, with the translator's error or, when it has
  // none, `fallback()`; `chunk` is cleared and the stream is over. Otherwise the head stays held
  // (nothing went out yet, so the client is not kept waiting on anything it has).
  template <class ErrorResponse, class Fallback>
  void release_head(FilterCallbacks& x, std::string& chunk, bool last,
                    ErrorResponse&& error_response, Fallback&& fallback) {
    if (!holding_ || !translator_) return;
    if (translator_->started()) {
      holding_ = false;
      x.resume();
      return;
    }
    if (!translator_->failed() && !last) return;
    holding_ = false;
    x.response() =
        translator_->error() ? error_response(*translator_->error()) : error_response(fallback());
    translator_.reset();
    chunk.clear();
    x.resume();
  }

 private:
  std::optional<Translator> translator_;
  bool holding_ = false;  // the response head is parked until the first translated event
};

}  // namespace gemgate
