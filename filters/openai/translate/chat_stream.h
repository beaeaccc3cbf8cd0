// Gemini `streamGenerateContent?alt=sse` bytes → OpenAI chat.completion.chunk SSE bytes,
// incrementally.
//
//   ChatStreamTranslator t(req->context, {.id = "chatcmpl-…", .created = now});
//   std::string out;
//   t.feed(bytes_from_gemini, out);      // any split of the input, as it arrives
//   ...
//   t.finish(out);                       // Gemini closed the stream normally
//   // or t.fail(err, out) if the upstream connection broke
//   // send `out` to the client after each call; stop when done()
//
// Output, per choice (candidate index): a role chunk {"role":"assistant","content":""}, then
// content / reasoning_content / tool_calls / images / audio deltas (an inline image: one
// delta.images entry as in chat_response.h; an inline audio part: delta.audio {id, data} with
// that part's base64 pcm16) in the order Gemini sent the parts (consecutive
// texts of one event are joined into one delta), then — at finish() — one chunk with an empty delta
// and the finish_reason. Tool calls arrive whole from Gemini, so each is one delta carrying index,
// id, type, name and the full arguments; `index` counts the calls of a choice across the whole
// stream (never per event), ids follow chat_response.h. Then, only when the request set
// stream_options.include_usage, exactly one chunk with "choices":[] and the last (Gemini's usage
// is cumulative) usage, every other chunk carrying "usage":null. Then "data: [DONE]".
//
// Failures: a Gemini {"error":...} event, a call to fail(), an event that is not JSON or larger
// than the limit, or a stream that ends before any event, all emit one
// `data: {"error":{...}}` event and end the stream without [DONE] (the OpenAI SDKs raise on it).
//
// A failure before any chunk went out leaves error() as the only output: a caller that has not
// yet committed its response head may then answer error()->status with error()->to_json()
// instead of a 200 stream; check `!started()`.
//
// A thoughtSignature on a text part is not streamed (Gemini only requires signatures on function
// calls, which carry theirs in the tool call id); the non-stream response does return it.
//
// Output depends only on the decoded events, never on how the input was split.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/chat_response.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

class ChatStreamTranslator {
 public:
  // Largest single SSE event accepted from Gemini before the stream is failed.
  static constexpr size_t kDefaultMaxEventBytes = 16u << 20;

  ChatStreamTranslator(ChatContext ctx, ResponseMeta meta,
                       size_t max_event_bytes = kDefaultMaxEventBytes);
  ~ChatStreamTranslator();
  ChatStreamTranslator(ChatStreamTranslator&&) noexcept;
  ChatStreamTranslator& operator=(ChatStreamTranslator&&) noexcept;

  // Consumes upstream bytes and appends the resulting OpenAI SSE bytes to `out`. Ignored once
  // done().
  void feed(std::string_view bytes, std::string& out);
  // The upstream stream ended normally: emits the finish chunk(s), the usage chunk if asked for
  // and [DONE]. Ignored once done().
  void finish(std::string& out);
  // The upstream failed (connection reset, timeout, ...): emits `error` as an SSE error event and
  // ends the stream without [DONE]. Ignored once done().
  void fail(const OpenAIError& error, std::string& out);

  bool done() const;                 // finished or failed; nothing more will be emitted
  bool failed() const;               // ended with an error event
  bool started() const;              // at least one chunk (other than an error event) was emitted
  const OpenAIError* error() const;  // the error a failed stream ended with, else nullptr
  const Usage& usage() const;        // the last usage Gemini reported (zeros if none yet)

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace gemgate::openai
