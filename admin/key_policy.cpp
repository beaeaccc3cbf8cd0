#include "admin/key_policy.h"

#include <algorithm>

#include "core/log.h"
#include "core/text.h"

namespace gemgate::admin {

namespace {

constexpr size_t kMaxGroup = 64;
constexpr size_t kMaxNote = 500;
constexpr size_t kMaxProxy = 2048;
constexpr int64_t kMaxPerMinute = 1'000'000'000'000;

std::string check_group(std::string_view g) {
  if (g.size() > kMaxGroup) return "must be at most 64 characters";
  for (char c : g) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return "may hold only letters, digits, '-', '_' and '.'";
  }
  return "";
}

bool starts_with_ascii_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (text::ascii_lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

std::string check_proxy(std::string_view p) {
  if (p.empty()) return "";
  if (p.size() > kMaxProxy) return "is too long";
  for (char c : p) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must be a URL without spaces or control characters";
    }
  }
  for (std::string_view scheme : {"http://", "https://", "socks5://", "socks5h://"}) {
    if (p.size() > scheme.size() && starts_with_ascii_ci(p, scheme)) return "";
  }
  return "must be empty or a proxy URL starting with http://, https://, socks5:// or socks5h://";
}

std::string check_note(std::string_view n) {
  if (n.size() > kMaxNote) return "must be at most 500 bytes";
  for (char c : n) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      return "may not hold control characters";
    }
  }
  return "";
}

// Reads a whole number within [lo, hi] from text; nullopt when it is not one.
std::optional<int64_t> whole_number(std::string_view s, int64_t lo, int64_t hi) {
  if (s.empty() || s.size() > 13) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

const char* kWeightRule = "must be a whole number from 1 to 100";
const char* kLimitRule = "must be a whole number >= 0 (0 = no limit)";

// Sets one named field from text (an import line's option). Returns a problem or nullopt.
std::optional<PolicyProblem> set_from_text(std::string_view name, std::string_view value,
                                           KeyPolicyPatch& patch) {
  const std::string field(name);
  if (name == "weight") {
    auto v = whole_number(value, pool::kMinWeight, pool::kMaxWeight);
    if (!v) return PolicyProblem{field, kWeightRule};
    patch.weight = static_cast<int>(*v);
  } else if (name == "rpm" || name == "tpm") {
    auto v = whole_number(value, 0, kMaxPerMinute);
    if (!v) return PolicyProblem{field, kLimitRule};
    (name == "rpm" ? patch.rpm : patch.tpm) = *v;
  } else if (name == "group") {
    if (auto why = check_group(value); !why.empty()) return PolicyProblem{field, why};
    patch.group = std::string(value);
  } else if (name == "proxy") {
    if (auto why = check_proxy(value); !why.empty()) return PolicyProblem{field, why};
    patch.proxy = std::string(value);
  } else if (name == "note") {
    if (auto why = check_note(value); !why.empty()) return PolicyProblem{field, why};
    patch.note = std::string(value);
  } else {
    return PolicyProblem{field, "unknown option (weight, group, rpm, tpm, proxy or note)"};
  }
  return std::nullopt;
}

}  // namespace

pool::KeyPolicy KeyPolicyPatch::applied_to(const pool::KeyPolicy& current) const {
  pool::KeyPolicy p = current;
  if (weight) p.weight = *weight;
  if (group) p.group = *group;
  if (rpm) p.rpm = *rpm;
  if (tpm) p.tpm = *tpm;
  if (proxy) {
    // The proxy is write-only: GET shows it masked, and an editor sending that back keeps it.
    bool echo = !current.proxy.empty() && *proxy != current.proxy &&
                *proxy == text::mask_url_password(current.proxy);
    if (!echo) p.proxy = *proxy;
  }
  if (note) p.note = *note;
  return p;
}

std::optional<PolicyProblem> read_policy_json(const rapidjson::Value& object, KeyPolicyPatch& patch,
                                              const std::vector<std::string_view>& also_allowed) {
  if (!object.IsObject()) return PolicyProblem{"", "send a JSON object"};
  for (const auto& m : object.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (std::find(also_allowed.begin(), also_allowed.end(), name) != also_allowed.end()) continue;
    const std::string field(name);
    const rapidjson::Value& v = m.value;
    if (name == "weight") {
      if (!v.IsInt64() || v.GetInt64() < pool::kMinWeight || v.GetInt64() > pool::kMaxWeight) {
        return PolicyProblem{field, kWeightRule};
      }
      patch.weight = static_cast<int>(v.GetInt64());
    } else if (name == "rpm" || name == "tpm") {
      if (v.IsNull()) {
        (name == "rpm" ? patch.rpm : patch.tpm) = 0;
        continue;
      }
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > kMaxPerMinute) {
        return PolicyProblem{field, kLimitRule};
      }
      (name == "rpm" ? patch.rpm : patch.tpm) = v.GetInt64();
    } else if (name == "group" || name == "proxy" || name == "note") {
      if (v.IsNull()) {
        (name == "group" ? patch.group : name == "proxy" ? patch.proxy : patch.note) = "";
        continue;
      }
      if (!v.IsString()) return PolicyProblem{field, "must be a string"};
      if (auto p =
              set_from_text(name, std::string_view(v.GetString(), v.GetStringLength()), patch)) {
        return p;
      }
    } else {
      return PolicyProblem{field, "unknown field (weight, group, rpm, tpm, proxy or note)"};
    }
  }
  return std::nullopt;
}

bool has_key_options(std::string_view line) {
  return line.find('=') != std::string_view::npos;
}

std::optional<PolicyProblem> parse_key_line(std::string_view line, KeyLine& out) {
  size_t comma = line.find(',');
  out.secret = std::string(trim(line.substr(0, comma)));
  if (out.secret.empty() || has_key_options(out.secret)) {
    return PolicyProblem{"key", "the line must start with the key, then ,name=value options"};
  }
  while (comma != std::string_view::npos) {
    line.remove_prefix(comma + 1);
    comma = line.find(',');
    std::string_view option = trim(line.substr(0, comma));
    if (option.empty()) continue;
    size_t eq = option.find('=');
    if (eq == std::string_view::npos) {
      return PolicyProblem{std::string(option.substr(0, 32)),
                           "options after the key are name=value (one key per line with options)"};
    }
    if (auto p =
            set_from_text(trim(option.substr(0, eq)), trim(option.substr(eq + 1)), out.patch)) {
      return p;
    }
  }
  return std::nullopt;
}

storage::KeyPolicyRow to_stored(const pool::KeyPolicy& p) {
  return storage::KeyPolicyRow{p.weight, p.group, p.rpm, p.tpm, p.proxy, p.note};
}

void register_proxy_secret(std::string_view proxy) {
  if (proxy.empty()) return;
  log::register_secret(proxy);
  log::register_secret(text::url_password(proxy));
}

}  // namespace gemgate::admin
