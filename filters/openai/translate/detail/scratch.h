// Internal: per-thread scratch memory for the RapidJSON documents and output of one call (one
// request, one answer, one stream event), so that parsing, building and writing them does not go
// to malloc every time. A fresh rapidjson::Document costs a pool allocator, a 64 KiB chunk and a
// parse stack; a fresh StringBuffer grows by reallocation and is then copied into a string.
//
//   detail::Scratch s;                      // claims this thread's arena
//   if (!parse_json(text, s.doc(), &err))   // the DOM and its parse stack live in the arena
//   Value v(rapidjson::kObjectType); add(v, "k", "x", s.allocator());
//   s.out().Clear(); v.Accept(s.writer());  // or write_json(v) for a std::string
//
// Everything allocated from a Scratch dies with it: copy out what must outlive the call. The
// arena keeps its buffer between calls (it grows to what a call needed, up to kMaxKeptBytes);
// a bigger call spills into chunks freed at its end, so a huge document never stays resident. A
// Scratch made while another is alive on the same thread (a nested call) gets a private pool
// instead of the arena, so nesting is safe, only slower.
#pragma once

#include <cstring>
#include <optional>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai::detail {

// A document whose parse stack comes from the same pool as its values (a plain Document frees
// and reallocates its stack on every Parse). Its values are plain `Value`s.
using ScratchDocument =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                               rapidjson::MemoryPoolAllocator<>>;

class Scratch {
 public:
  static constexpr size_t kInitialBytes = 16u << 10;
  static constexpr size_t kMaxKeptBytes = 256u << 10;

  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // The pool every value of this call is allocated from.
  Alloc& allocator() { return *pool_; }
  // An empty document on that pool, for parsing.
  ScratchDocument& doc() { return *doc_; }

 private:
  struct Arena;
  Arena* arena_ = nullptr;  // this thread's arena, or nullptr when nested (private pool)
  std::optional<rapidjson::MemoryPoolAllocator<>> pool_;
  std::optional<ScratchDocument> doc_;
};

// A per-thread output buffer and writer, reused by every write on the thread (kept up to
// Scratch::kMaxKeptBytes). Claimed like Scratch; a nested claim gets a private buffer.
// RapidJSON's Writer with strings escaped a run at a time: the same bytes (", \ and control
// characters escaped exactly as RapidJSON escapes them, everything else copied), without its
// per-character loop. Values written through Value::Accept() use it too.
class FastWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  explicit FastWriter(rapidjson::StringBuffer& os)
      : rapidjson::Writer<rapidjson::StringBuffer>(os) {}

  bool String(const Ch* str, rapidjson::SizeType length, bool copy = false);
  bool String(const Ch* str) { return String(str, static_cast<rapidjson::SizeType>(strlen(str))); }
  bool Key(const Ch* str, rapidjson::SizeType length, bool copy = false) {
    return String(str, length, copy);
  }
  bool Key(const Ch* str) { return String(str); }
};

class ScratchWriter {
 public:
  using Writer = FastWriter;

  ScratchWriter();  // the buffer starts empty
  ~ScratchWriter();
  ScratchWriter(const ScratchWriter&) = delete;
  ScratchWriter& operator=(const ScratchWriter&) = delete;

  // The writer, reset to write one more root value after what the buffer holds.
  Writer& writer();
  std::string_view text() const { return {buf_->GetString(), buf_->GetSize()}; }
  void clear() { buf_->Clear(); }

 private:
  struct Slot;
  Slot* slot_ = nullptr;  // this thread's buffer, or nullptr when nested
  rapidjson::StringBuffer* buf_ = nullptr;
  Writer* writer_ = nullptr;
  std::optional<rapidjson::StringBuffer> own_buf_;
  std::optional<Writer> own_writer_;
};

// parse_json() and parse_request_body() into a scratch document (same checks, same errors).
bool parse_json(std::string_view text, ScratchDocument& doc, std::string* error,
                size_t max_depth = kMaxJsonDepth);
Expected<bool> parse_request_body(std::string_view body, ScratchDocument& doc);
// parse_json(), faster for an upstream answer or event: the DOM's strings stay in a copy of
// `text` on the document's pool (same checks, same errors). Values copied from this DOM share
// those strings instead of copying them, so the pool's size no longer counts them: never for a
// DOM whose pool size is a budget (the client's request and its schemas).
bool parse_json_in_place(std::string_view text, ScratchDocument& doc, std::string* error,
                         size_t max_depth = kMaxJsonDepth);

}  // namespace gemgate::openai::detail
