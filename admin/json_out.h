// JsonOut: a thin convenience over RapidJSON's Writer for building admin API answers.
#pragma once

#include <cstdint>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <string>
#include <string_view>

namespace gemgate::admin {

class JsonOut {
 public:
  JsonOut() : w_(buf_) {}

  JsonOut& begin_object() {
    w_.StartObject();
    return *this;
  }
  JsonOut& end_object() {
    w_.EndObject();
    return *this;
  }
  JsonOut& begin_array() {
    w_.StartArray();
    return *this;
  }
  JsonOut& end_array() {
    w_.EndArray();
    return *this;
  }
  JsonOut& key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonOut& str(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  JsonOut& num(int64_t v) {
    w_.Int64(v);
    return *this;
  }
  JsonOut& boolean(bool v) {
    w_.Bool(v);
    return *this;
  }
  JsonOut& null() {
    w_.Null();
    return *this;
  }
  // Writes pre-rendered JSON text as a value (it must be valid JSON).
  JsonOut& raw(std::string_view json) {
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  // key + value shorthands
  JsonOut& field(std::string_view k, std::string_view v) { return key(k).str(v); }
  JsonOut& field(std::string_view k, const char* v) { return key(k).str(v); }
  JsonOut& field(std::string_view k, int64_t v) { return key(k).num(v); }
  JsonOut& field(std::string_view k, int v) { return key(k).num(v); }
  JsonOut& field(std::string_view k, size_t v) { return key(k).num(static_cast<int64_t>(v)); }
  JsonOut& field(std::string_view k, bool v) { return key(k).boolean(v); }

  std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace gemgate::admin
