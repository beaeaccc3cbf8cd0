#include "golden.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <fstream>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sstream>

namespace gemgate::openai::test {

namespace fs = std::filesystem;

std::vector<fs::path> golden_entries(std::string_view sub, bool dirs) {
  std::vector<fs::path> out;
  fs::path root = fs::path(GOLDEN_DIR) / sub;
  for (const auto& e : fs::directory_iterator(root)) {
    if (dirs ? e.is_directory() : (e.is_regular_file() && e.path().extension() == ".json")) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void parse_or_fail(std::string_view text, rapidjson::Document& doc, std::string_view what) {
  doc.Parse(text.data(), text.size());
  REQUIRE_MESSAGE(!doc.HasParseError(),
                  what << ": invalid JSON: " << rapidjson::GetParseError_En(doc.GetParseError())
                       << " at " << doc.GetErrorOffset() << "\n"
                       << text);
}

void load_json(const fs::path& p, rapidjson::Document& doc) {
  parse_or_fail(read_file(p), doc, p.string());
}

std::string to_json(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return buf.GetString();
}

std::string json_diff(const rapidjson::Value& e, const rapidjson::Value& a,
                      const std::string& path) {
  auto show = [](const rapidjson::Value& v) {
    std::string s = to_json(v);
    return s.size() > 300 ? s.substr(0, 300) + "..." : s;
  };
  if (e.IsNumber() && a.IsNumber()) {
    bool same = (e.IsDouble() || a.IsDouble()) ? e.GetDouble() == a.GetDouble() : e == a;
    return same ? "" : path + ": expected " + show(e) + ", got " + show(a);
  }
  if (e.GetType() != a.GetType()) {
    return path + ": expected " + show(e) + ", got " + show(a);
  }
  if (e.IsObject()) {
    for (auto& m : e.GetObject()) {
      std::string p = path + "." + m.name.GetString();
      auto it = a.FindMember(m.name);
      if (it == a.MemberEnd()) return p + ": missing (expected " + show(m.value) + ")";
      if (auto d = json_diff(m.value, it->value, p); !d.empty()) return d;
    }
    for (auto& m : a.GetObject()) {
      if (!e.HasMember(m.name)) {
        return path + "." + m.name.GetString() + ": unexpected (got " + show(m.value) + ")";
      }
    }
    return "";
  }
  if (e.IsArray()) {
    if (e.Size() != a.Size()) {
      return path + ": expected " + std::to_string(e.Size()) + " elements, got " +
             std::to_string(a.Size()) + ": " + show(a);
    }
    for (rapidjson::SizeType i = 0; i < e.Size(); ++i) {
      if (auto d = json_diff(e[i], a[i], path + "[" + std::to_string(i) + "]"); !d.empty()) {
        return d;
      }
    }
    return "";
  }
  return e == a ? "" : path + ": expected " + show(e) + ", got " + show(a);
}

std::vector<std::string> sse_events(std::string_view text, std::string* framing_error) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string_view::npos) {
      if (framing_error) *framing_error = "unterminated event: " + std::string(text.substr(pos));
      break;
    }
    std::string_view ev = text.substr(pos, end - pos);
    if (!ev.starts_with("data: ") || ev.find('\n') != std::string_view::npos) {
      if (framing_error) *framing_error = "malformed event: " + std::string(ev);
    }
    out.emplace_back(ev.starts_with("data: ") ? ev.substr(6) : ev);
    pos = end + 2;
  }
  return out;
}

std::string sse_diff(std::string_view expected, std::string_view actual) {
  std::string framing;
  auto ev = sse_events(expected);
  auto av = sse_events(actual, &framing);
  if (!framing.empty()) return "actual stream: " + framing;
  for (size_t i = 0; i < std::max(ev.size(), av.size()); ++i) {
    std::string where = "event " + std::to_string(i);
    if (i >= ev.size()) return where + ": unexpected " + av[i];
    if (i >= av.size()) return where + ": missing, expected " + ev[i];
    if (ev[i] == "[DONE]" || av[i] == "[DONE]") {
      if (ev[i] != av[i]) return where + ": expected " + ev[i] + ", got " + av[i];
      continue;
    }
    rapidjson::Document e, a;
    e.Parse(ev[i].data(), ev[i].size());
    a.Parse(av[i].data(), av[i].size());
    if (e.HasParseError()) return where + ": expected event is not JSON: " + ev[i];
    if (a.HasParseError()) return where + ": actual event is not JSON: " + av[i];
    if (auto d = json_diff(e, a); !d.empty()) return where + ": " + d;
  }
  return "";
}

}  // namespace gemgate::openai::test
