// Input checks shared by every Store backend (see validate.h).
#include "storage/validate.h"

#include <algorithm>

#include "core/log.h"

namespace gemgate::storage {
namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

Result<std::string> normalize_key_secret(std::string_view raw) {
  std::string_view key = trim_ascii(raw);
  if (key.empty()) return Error::invalid("empty");
  if (key.size() > kMaxKeyLength) return Error::invalid("longer than 256 characters");
  for (char c : key) {
    if (is_ascii_space(c)) return Error::invalid("contains whitespace");
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e)
      return Error::invalid("contains non-printable or non-ASCII characters");
  }
  return std::string(key);
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<void> check_setting_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxSettingNameLength) {
    return Error::invalid("setting names are 1 to 128 characters long");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok)
      return Error::invalid("setting name '" + clip_utf8(name, 64) + "' has a bad character");
  }
  return {};
}

std::string clip_utf8(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t cut = max_bytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a sequence start.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut));
}

std::string safe_text(std::string_view s, std::size_t max_bytes) {
  if (s.empty()) return {};
  return clip_utf8(log::redact(s), max_bytes);
}

std::string strip_query(std::string_view path) {
  auto cut = path.find_first_of("?#");
  return clip_utf8(path.substr(0, cut), kMaxPathText);
}

Result<void> parse_status_filter(std::string_view text, LogFilter& filter) {
  text = trim_ascii(text);
  if (text.empty()) return {};
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() == 3 && text[0] >= '1' && text[0] <= '5') {
    if ((text[1] == 'x' || text[1] == 'X') && (text[2] == 'x' || text[2] == 'X')) {
      filter.status_class = text[0] - '0';
      return {};
    }
    if (digit(text[1]) && digit(text[2])) {
      filter.status = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
      return {};
    }
  }
  if (text == "0") {  // requests that got no response at all
    filter.status = 0;
    return {};
  }
  return Error::invalid("status filter must be a status code like 429 or a class like 5xx");
}

PageRequest clamp_page(PageRequest page) {
  page.page = std::max(page.page, 1);
  page.per_page = std::clamp(page.per_page, 1, kMaxPerPage);
  return page;
}

bool is_model_name(std::string_view s, bool pattern) {
  if (s.empty() || s.size() > kMaxModelPatternLength) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || (pattern && c == '*');
    if (!ok) return false;
  }
  return true;
}

std::optional<PolicyProblem> token_policy_problem(const TokenPolicyRow& policy) {
  if (policy.models.size() > kMaxTokenModels) {
    return PolicyProblem{"models",
                         "'models' may list at most " + std::to_string(kMaxTokenModels) + " names"};
  }
  for (const std::string& m : policy.models) {
    if (!is_model_name(m, true)) {
      return PolicyProblem{"models", "'models' entries must be model names or patterns (1 to " +
                                         std::to_string(kMaxModelPatternLength) +
                                         " characters of A-Z a-z 0-9 . _ - and *)"};
    }
  }
  const std::pair<const char*, std::int64_t> limits[] = {
      {"rpm", policy.rpm},
      {"tpm", policy.tpm},
      {"daily_tokens", policy.daily_tokens},
      {"monthly_tokens", policy.monthly_tokens},
      {"expires_at", policy.expires_at},
  };
  for (const auto& [name, value] : limits) {
    if (value < 0 || value > kMaxTokenLimit) {
      return PolicyProblem{name, "'" + std::string(name) + "' must be a whole number from 0 to " +
                                     "1000000000000000 (0 = no limit)"};
    }
  }
  if (policy.key_group.size() > kMaxKeyGroupLength ||
      (!policy.key_group.empty() && !is_model_name(policy.key_group, false))) {
    return PolicyProblem{"key_group", "'key_group' must be at most " +
                                          std::to_string(kMaxKeyGroupLength) +
                                          " characters of A-Z a-z 0-9 . _ -"};
  }
  return std::nullopt;
}

// Rows as they will be stored: clipped, redacted, no query string, no negative counters.
RequestLogRow clean_request_log_row(const RequestLogRow& in) {
  RequestLogRow r = in;
  r.route = clip_utf8(in.route, kMaxShortText);
  r.method = clip_utf8(in.method, kMaxShortText);
  r.path = strip_query(in.path);
  r.model = clip_utf8(in.model, kMaxShortText);
  r.status = std::clamp(in.status, 0, 999);
  r.latency_ms = std::max<std::int64_t>(in.latency_ms, 0);
  r.attempts = std::max(in.attempts, 0);
  r.prompt_tokens = std::max<std::int64_t>(in.prompt_tokens, 0);
  r.completion_tokens = std::max<std::int64_t>(in.completion_tokens, 0);
  r.thoughts_tokens = std::max<std::int64_t>(in.thoughts_tokens, 0);
  r.cached_tokens = std::max<std::int64_t>(in.cached_tokens, 0);
  r.total_tokens = std::max<std::int64_t>(in.total_tokens, 0);
  r.error = safe_text(in.error, kMaxErrorText);
  r.request_id = clip_utf8(in.request_id, kMaxShortText);
  r.instance_id = clip_utf8(in.instance_id, kMaxShortText);
  std::sort(r.failed_key_ids.begin(), r.failed_key_ids.end());
  r.failed_key_ids.erase(std::unique(r.failed_key_ids.begin(), r.failed_key_ids.end()),
                         r.failed_key_ids.end());
  if (r.failed_key_ids.size() > kMaxFailedKeys) r.failed_key_ids.resize(kMaxFailedKeys);
  return r;
}

bool is_clean_request_log_row(const RequestLogRow& r) {
  auto short_text = [](const std::string& s) { return s.size() <= kMaxShortText; };
  const bool texts = short_text(r.route) && short_text(r.method) && short_text(r.model) &&
                     short_text(r.request_id) && short_text(r.instance_id) && r.error.empty() &&
                     r.path.size() <= kMaxPathText &&
                     r.path.find_first_of("?#") == std::string::npos;
  const bool numbers = r.status >= 0 && r.status <= 999 && r.latency_ms >= 0 && r.attempts >= 0 &&
                       r.prompt_tokens >= 0 && r.completion_tokens >= 0 && r.thoughts_tokens >= 0 &&
                       r.cached_tokens >= 0 && r.total_tokens >= 0;
  const auto& ids = r.failed_key_ids;
  const bool failed = ids.size() <= kMaxFailedKeys &&
                      std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) ==
                          ids.end();  // strictly increasing: sorted and unique
  return texts && numbers && failed;
}

ErrorLogRow clean_error_log_row(const ErrorLogRow& in) {
  ErrorLogRow r = in;
  r.model = clip_utf8(in.model, kMaxShortText);
  r.status = std::clamp(in.status, 0, 999);
  r.kind = clip_utf8(in.kind, kMaxShortText);
  r.message = safe_text(in.message, kMaxErrorText);
  r.route = clip_utf8(in.route, kMaxShortText);
  r.instance_id = clip_utf8(in.instance_id, kMaxShortText);
  return r;
}

std::string join_token_models(const std::vector<std::string>& models) {
  std::string out;
  for (const std::string& m : models) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

std::vector<std::string> split_token_models(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace gemgate::storage
