// MessagesStreamTranslator: Gemini `streamGenerateContent?alt=sse` bytes → Anthropic Messages
// SSE events, for input split anywhere (one byte at a time included).
//
//   MessagesStreamTranslator t(req->context, "msg_" + random_id());
//   t.feed(chunk, out);      // for every upstream chunk; send `out`, clear it
//   t.finish(out);           // upstream ended cleanly
//   t.fail(error, out);      // or: upstream broke → an `error` event
//   t.ping(out);             // a keep-alive during a long silence
//
// Output: message_start (at the first Gemini event, with its input usage), then per block
// content_block_start / content_block_delta (text_delta, thinking_delta, signature_delta,
// input_json_delta: Gemini sends a call's arguments whole, so one delta holds all of them) /
// content_block_stop, then at finish() message_delta {stop_reason, stop_sequence: null, usage}
// and message_stop. A Gemini {"error":...} event ends the stream with an `error` event; when
// that happens before message_start (!started()), a caller that still holds its response head
// may answer error() as a plain HTTP error instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "filters/anthropic/translate/detail/blocks.h"
#include "filters/anthropic/translate/errors.h"
#include "filters/anthropic/translate/messages_request.h"
#include "filters/anthropic/translate/messages_response.h"
#include "filters/openai/translate/detail/sse_decoder.h"

namespace gemgate::anthropic {

class MessagesStreamTranslator {
 public:
  MessagesStreamTranslator(MessagesContext ctx, std::string message_id,
                           size_t max_event_bytes = 16u << 20);

  // Translates `bytes`, appending whatever events they complete to `out`.
  void feed(std::string_view bytes, std::string& out);
  // The upstream ended: closes the open block, message_delta, message_stop. An upstream that
  // sent no event at all fails instead (error() is set).
  void finish(std::string& out);
  // Ends the stream with an `error` event (nothing after it).
  void fail(const AnthropicError& error, std::string& out);
  // Appends a `ping` event (only between message_start and the end).
  void ping(std::string& out);

  bool started() const { return started_; }  // message_start was emitted
  bool failed() const { return error_.has_value(); }
  bool done() const { return done_; }
  const std::optional<AnthropicError>& error() const { return error_; }
  const Usage& usage() const { return usage_; }

 private:
  bool on_event(std::string_view data, std::string& out);

  MessagesContext ctx_;
  std::string id_;
  openai::detail::SseDecoder decoder_;
  detail::BlockAssembler blocks_;
  bool started_ = false;
  bool done_ = false;
  std::optional<AnthropicError> error_;
  Usage usage_;
  std::string finish_reason_;
  std::string block_reason_;
};

}  // namespace gemgate::anthropic
