// Resource names in paths, bodies and answers. See resource_names.h.
#include "filters/affinity/resource_names.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <rapidjson/document.h>
#include <unordered_set>

#include "core/http/headers.h"
#include "core/http/message.h"
#include "core/json.h"

namespace gemgate::affinity {

namespace {

constexpr std::array<std::string_view, 5> kFlatKinds = {"files", "cachedContents", "batches",
                                                        "interactions", "operations"};

bool is_flat_kind(std::string_view s) {
  return std::find(kFlatKinds.begin(), kFlatKinds.end(), s) != kFlatKinds.end();
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A path's segments without a vector: the first kKept, how many in all, and the last one.
// names_in_path reads at most the version (after an optional download/upload) and the four
// segments that follow it, plus the last.
struct PathSegments {
  static constexpr size_t kKept = 6;
  std::array<std::string_view, kKept> first{};
  size_t count = 0;
  std::string_view last;
};

PathSegments segments_of(std::string_view path) {
  PathSegments out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      std::string_view s = path.substr(i, j - i);
      if (out.count < PathSegments::kKept) out.first[out.count] = s;
      out.last = s;
      ++out.count;
    }
    i = j + 1;
  }
  return out;
}

// True when `body` has a member created_by_answer reads a name from ("name", "tunedModel",
// "responsesFile", "uri", "fileUri"), or a \u escape a key could be spelled with. One pass over
// the quotes: an answer with none of them (generateContent's, the common case) creates
// nothing and is not parsed.
bool may_name_created(std::string_view body) {
  if (body.find("\\u") != std::string_view::npos) return true;
  static constexpr std::string_view kKeys[] = {"name\"", "tunedModel\"", "responsesFile\"", "uri\"",
                                               "fileUri\""};
  for (size_t q = body.find('"'); q != std::string_view::npos; q = body.find('"', q + 1)) {
    std::string_view after = body.substr(q + 1);
    for (std::string_view key : kKeys) {
      if (after.starts_with(key)) return true;
    }
  }
  return false;
}

void add_unique(std::vector<std::string>& names, std::string name) {
  if (name.empty()) return;
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
}

std::string as_string(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string();
}

std::string member_string(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? std::string() : as_string(it->value);
}

std::string interaction_name(std::string id) {
  if (id.empty() || id.find('/') != std::string::npos) {
    return id.starts_with("interactions/") ? id : std::string();
  }
  return "interactions/" + id;
}

// The distinct names of a body in order, in linear time, up to one past kMaxNamesPerCall.
struct BodyNames {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;

  bool full() const { return names.size() > kMaxNamesPerCall; }
  void add(std::string name) {
    if (name.empty() || full() || !seen.insert(name).second) return;
    names.push_back(std::move(name));
  }
};

// Collects the names referenced under the keys names_in_body() knows, at any depth.
void walk(const rapidjson::Value& v, BodyNames& out, int depth) {
  if (depth > 64 || out.full()) return;
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      walk(e, out, depth + 1);
      if (out.full()) return;
    }
    return;
  }
  if (!v.IsObject()) return;
  for (const auto& m : v.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (m.value.IsString()) {
      std::string text = as_string(m.value);
      if (key == "fileUri" || key == "file_uri" || key == "uri" || key == "fileName" ||
          key == "file_name" || key == "cachedContent" || key == "cached_content") {
        out.add(name_from_reference(text));
      } else if (key == "previous_interaction_id" || key == "previousInteractionId") {
        out.add(interaction_name(text));
      }
    } else {
      walk(m.value, out, depth + 1);
    }
    if (out.full()) return;
  }
}

// File URIs in an operation's result (generated videos: response.…​.video.uri).
void walk_uris(const rapidjson::Value& v, std::vector<std::string>& names, int depth) {
  if (depth > 64) return;
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) walk_uris(e, names, depth + 1);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (m.value.IsString() && (key == "uri" || key == "fileUri")) {
        std::string name = name_from_reference(as_string(m.value));
        if (kind_of(name) == "files") add_unique(names, std::move(name));
      } else {
        walk_uris(m.value, names, depth + 1);
      }
    }
  }
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::vector<std::string> names_in_path(std::string_view path) {
  std::vector<std::string> names;  // stays empty, and unallocated, for most calls
  path = path.substr(0, path.find('?'));
  PathSegments seg = segments_of(path);
  size_t i = 0;
  if (i < seg.count && (seg.first[0] == "download" || seg.first[0] == "upload")) ++i;
  if (i >= seg.count || !seg.first[i].starts_with("v1")) return names;
  // The segments after the version: rest(k), the last one without its ":method".
  const size_t n_rest = seg.count - i - 1;
  if (n_rest == 0) return names;
  const std::string_view last = seg.last.substr(0, seg.last.find(':'));
  if (last.empty()) return names;
  auto rest = [&](size_t k) { return k + 1 == n_rest ? last : seg.first[i + 1 + k]; };
  auto join = [&](size_t n) {
    std::string s;
    for (size_t k = 0; k < n; ++k) {
      if (k) s += '/';
      s.append(rest(k));
    }
    return s;
  };
  if (n_rest >= 2 && is_flat_kind(rest(0))) {
    names.push_back(join(2));
  } else if (n_rest >= 2 && rest(0) == "tunedModels") {
    if (n_rest >= 4 && rest(2) == "operations") names.push_back(join(4));
    names.push_back(join(2));
  } else if (n_rest >= 4 && rest(0) == "models" && rest(2) == "operations") {
    names.push_back(join(4));
  }
  return names;
}

std::string name_from_reference(std::string_view ref) {
  // Spelled as Google reads it: surrounding blanks ignored, the scheme in any case, escapes of
  // plain characters decoded and dot segments resolved, so "files/%61bc", "files/x/../abc" and
  // " files/abc" name files/abc like "files/abc" does.
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!ref.empty() && blank(ref.front())) ref.remove_prefix(1);
  while (!ref.empty() && blank(ref.back())) ref.remove_suffix(1);
  std::string path;
  const size_t scheme_end = ref.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string_view scheme = ref.substr(0, scheme_end);
    if (!http::iequals(scheme, "https") && !http::iequals(scheme, "http")) return "";
    size_t host_end = ref.find('/', scheme_end + 3);
    if (host_end == std::string_view::npos) return "";
    path = std::string(ref.substr(host_end));
  } else {
    path = "/v1beta/" + std::string(ref);
  }
  path = path.substr(0, path.find_first_of("?#"));
  std::optional<std::string> normal = http::normalize_path(path);
  if (!normal) return "";
  auto names = names_in_path(*normal);
  return names.empty() ? "" : names.front();
}

std::vector<std::string> names_in_body(std::string_view body) {
  std::vector<std::string> names;
  // A key written with escapes ("file\u0055ri") is the same key to Google's parser: such a body
  // is always parsed.
  static constexpr std::array<std::string_view, 9> kHints = {
      "fileUri",   "file_uri", "achedContent", "ached_content", "nteraction", "fileName",
      "file_name", "\"uri\"",  "\\u"};
  bool maybe = std::any_of(kHints.begin(), kHints.end(),
                           [&](std::string_view h) { return body.find(h) != body.npos; });
  if (!maybe) return names;
  rapidjson::Document doc;
  if (!json::parse(doc, body)) return names;
  BodyNames found;
  walk(doc, found, 0);
  return std::move(found.names);
}

std::string kind_of(std::string_view name) {
  auto seg = split_path(name);
  if (seg.size() >= 3 && seg[seg.size() - 2] == "operations") return "operations";
  if (seg.size() == 2 && (is_flat_kind(seg[0]) || seg[0] == "tunedModels")) {
    return std::string(seg[0]);
  }
  return "";
}

std::vector<Created> created_by_answer(std::string_view method, std::string_view path,
                                       std::string_view body) {
  std::vector<Created> out;
  const bool writes = method == "POST" || method == "PATCH";
  const auto path_names = names_in_path(path);
  const bool reads_operation =
      method == "GET" && !path_names.empty() &&
      (kind_of(path_names.front()) == "operations" || kind_of(path_names.front()) == "batches");
  if (!writes && !reads_operation) return out;
  std::string_view bare_path = path.substr(0, path.find('?'));
  const bool creates_interaction = method == "POST" && bare_path.ends_with("/interactions");
  if (!creates_interaction && !may_name_created(body)) return out;
  rapidjson::Document doc;
  if (!json::parse(doc, body) || !doc.IsObject()) {
    // A streamed interaction answered as one buffered event stream.
    if (creates_interaction) {
      std::string id = interaction_id_in_events(body);
      if (!id.empty()) out.push_back({interaction_name(id), 0});
    }
    return out;
  }
  std::vector<std::string> seen;
  auto add = [&](std::string name, std::string expiry) {
    if (kind_of(name).empty()) return;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) return;
    seen.push_back(name);
    out.push_back({std::move(name), parse_rfc3339_ms(expiry).value_or(0)});
  };
  if (auto f = doc.FindMember("file"); f != doc.MemberEnd() && f->value.IsObject()) {
    add(member_string(f->value, "name"), member_string(f->value, "expirationTime"));
  }
  if (auto fs = doc.FindMember("files"); writes && fs != doc.MemberEnd() && fs->value.IsArray()) {
    // POST …/files:register answers the files it registered ({"files": [{"name"}, …]}).
    for (const auto& f : fs->value.GetArray()) {
      add(member_string(f, "name"), member_string(f, "expirationTime"));
    }
  }
  if (writes) {
    std::string name = member_string(doc, "name");
    add(name, member_string(doc, "expireTime").empty() ? member_string(doc, "expirationTime")
                                                       : member_string(doc, "expireTime"));
    if (creates_interaction) add(interaction_name(member_string(doc, "id")), "");
  }
  if (auto meta = doc.FindMember("metadata"); meta != doc.MemberEnd()) {
    add(member_string(meta->value, "tunedModel"), "");
  }
  if (auto resp = doc.FindMember("response"); resp != doc.MemberEnd()) {
    std::string inner = member_string(resp->value, "name");
    if (kind_of(inner) == "tunedModels" || kind_of(inner) == "files") add(inner, "");
    add(member_string(resp->value, "responsesFile"), "");  // a batch's output file
    std::vector<std::string> files;
    walk_uris(resp->value, files, 0);
    for (auto& f : files) add(std::move(f), "");
  }
  return out;
}

std::string interaction_id_in_events(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) break;  // an incomplete line: wait for the rest
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.starts_with("data:")) continue;
    line.remove_prefix(5);
    rapidjson::Document doc;
    if (!json::parse(doc, line) || !doc.IsObject()) continue;
    auto it = doc.FindMember("interaction");
    if (it == doc.MemberEnd()) continue;
    std::string id = member_string(it->value, "id");
    if (!id.empty()) return id;
  }
  return "";
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' ||
      !digits(s, 17, 2, &se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t i = 19;
  int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100;
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, &om)) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
  return secs * 1000 + ms;
}

}  // namespace gemgate::affinity
