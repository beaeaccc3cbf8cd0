#include "filters/auth/auth_filter.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/credentials.h"
#include "core/crypto.h"
#include "core/exchange.h"
#include "core/text.h"
#include "core/token_meter.h"

namespace gemgate::auth {

namespace {

enum class Source { kQuery, kGoogHeader, kBearer, kApiKeyHeader };

struct AuthConfig {
  std::vector<Source> sources{Source::kQuery, Source::kGoogHeader, Source::kBearer};
};

// Returns the bearer token of an Authorization value (a view of it), or nullopt when it is not
// "Bearer <t>".
std::optional<std::string_view> bearer_token(std::string_view value) {
  if (!text::istarts_with(value, "bearer ")) return std::nullopt;
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

// The SHA-256 of a token as lower-case hex, held in place (the lookup key; no allocation).
struct TokenHash {
  char hex[64];
  std::string_view view() const { return {hex, sizeof hex}; }
};
TokenHash token_hash(std::string_view token) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::array<uint8_t, 32> digest = crypto::sha256(token);
  TokenHash h;
  for (size_t i = 0; i < digest.size(); ++i) {
    h.hex[2 * i] = kDigits[digest[i] >> 4];
    h.hex[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return h;
}

// Answers a request over its token's rpm: 429 in the chain's error shape, with Retry-After.
void refuse_rate(FilterCallbacks& x, const TokenMeter::Verdict& v) {
  x.info().error = v.message;
  x.info().error_kind = "token_rate";
  http::Response r;
  r.status = 429;
  r.local_error = http::LocalError{429, "RESOURCE_EXHAUSTED", v.message, "", ""};
  r.headers.set("retry-after", std::to_string((v.retry_after_ms + 999) / 1000));
  x.respond(std::move(r));
}

class AuthFilter final : public Filter {
 public:
  AuthFilter(std::shared_ptr<const AuthConfig> config, std::shared_ptr<PublishedCredentials> creds,
             std::shared_ptr<CredentialUsage> usage, std::shared_ptr<TokenMeter> meter)
      : config_(std::move(config)),
        creds_(std::move(creds)),
        usage_(std::move(usage)),
        meter_(std::move(meter)) {}

  // Decides on the head alone, before the body is read: a client without a valid token never
  // gets gemgate to buffer its (up to max_body_bytes) body. The Exchange always runs this hook
  // before on_request, also for embedders that hand it a whole request.
  Status on_request_headers(FilterCallbacks& x) override {
    http::Request& req = x.request();
    // The token as a view of where it is: a header's value, or the query's decoded value (held
    // in `decoded`). Only its hash outlives the removal of the credentials below.
    std::string decoded;
    std::optional<std::string_view> token;
    for (Source s : config_->sources) {
      if (token) break;
      switch (s) {
        case Source::kQuery:
          if (std::optional<std::string> v = req.query_param("key"); v && !v->empty()) {
            decoded = std::move(*v);
            token = decoded;
          }
          break;
        case Source::kGoogHeader:
          if (const std::string* v = req.headers.get("x-goog-api-key"); v && !v->empty())
            token = *v;
          break;
        case Source::kBearer:
          if (const std::string* v = req.headers.get("authorization")) token = bearer_token(*v);
          break;
        case Source::kApiKeyHeader:  // Anthropic's SDKs
          if (const std::string* v = req.headers.get("x-api-key"); v && !v->empty()) token = *v;
          break;
      }
    }
    // Hashes are looked up, never the tokens: timing can only reveal something about a hash,
    // which says nothing useful about a high-entropy token.
    std::optional<TokenHash> hash;
    if (token) hash = token_hash(*token);
    token.reset();  // it may view a header removed next
    // Whatever the outcome, client credentials never go further down the chain.
    req.remove_query_param("key");
    req.headers.remove("x-goog-api-key");
    req.headers.remove("authorization");
    req.headers.remove("x-api-key");

    if (!hash) {
      x.info().error_kind = "auth";
      x.reply_local(401, "UNAUTHENTICATED", missing_message());
      return Status::Stop;
    }
    auto set = creds_->load();
    std::shared_ptr<const TokenPolicy> policy = set->find(hash->view());
    if (!policy) {
      x.info().error_kind = "auth";
      x.reply_local(401, "UNAUTHENTICATED", "the API token is not valid for this gateway");
      return Status::Stop;
    }
    const int64_t now = now_unix_ms();
    x.info().token_id = policy->id;
    if (!policy->enabled || policy->expired(now)) {
      x.info().error_kind = "auth";
      x.info().error = policy->enabled ? "token expired" : "token disabled";
      x.reply_local(401, "UNAUTHENTICATED",
                    policy->enabled ? "the API token has expired" : "the API token is disabled");
      return Status::Stop;
    }
    if (usage_) usage_->token_used(policy->id, now);
    x.info().key_group = policy->key_group;
    // The request rate is decided here, from the head: a client over its rpm never gets the
    // gateway to read its body. Models and token quotas are checked by token_policy, below the
    // fronts, where the model is known.
    if (meter_) {
      TokenMeter::Verdict v = meter_->admit_request(*policy, now);
      if (!v.allowed) {
        refuse_rate(x, v);
        return Status::Stop;
      }
    }
    x.slot<TokenPolicySlot>().policy = std::move(policy);
    return Status::Continue;
  }

 private:
  std::string missing_message() const {
    std::string where;
    for (Source s : config_->sources) {
      if (!where.empty()) where += ", ";
      where += s == Source::kQuery          ? "the 'key' query parameter"
               : s == Source::kGoogHeader   ? "the x-goog-api-key header"
               : s == Source::kApiKeyHeader ? "the x-api-key header"
                                            : "an 'Authorization: Bearer' header";
    }
    return "missing API token: send it in " + where;
  }

  std::shared_ptr<const AuthConfig> config_;
  std::shared_ptr<PublishedCredentials> creds_;
  std::shared_ptr<CredentialUsage> usage_;
  std::shared_ptr<TokenMeter> meter_;
};

// `sources: [query, goog_header, bearer]`: where to look for the token, in this order.
void read_sources(const ConfigNode& config, std::string_view key, AuthConfig& cfg,
                  ConfigErrors& errors) {
  std::vector<std::string> names;
  if (!config::read_string_list(config, key, &names, errors) || !config.get(key)) return;
  cfg.sources.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    const Mark& at = config.get(key)->items()[i].mark();
    if (names[i] == "query")
      cfg.sources.push_back(Source::kQuery);
    else if (names[i] == "goog_header")
      cfg.sources.push_back(Source::kGoogHeader);
    else if (names[i] == "bearer")
      cfg.sources.push_back(Source::kBearer);
    else if (names[i] == "x_api_key")
      cfg.sources.push_back(Source::kApiKeyHeader);
    else
      errors.add(at, "unknown token source '" + names[i] +
                         "' (expected query, goog_header, bearer or x_api_key)");
  }
  if (cfg.sources.empty() && names.empty()) {
    errors.add(config.get(key)->mark(), "'sources' must name at least one place");
  }
}

}  // namespace

Result<void> register_auth_filter(Registry& registry) {
  return registry.add_filter(FilterDef<AuthConfig>{
      .name = "auth",
      .summary = "checks the client's token (?key=, x-goog-api-key, Bearer) and strips it",
      .fields = {{.key = "sources", .read = &read_sources}},
      .build = [](const FilterBuild<AuthConfig>& b) -> std::optional<FilterFactory> {
        auto creds = b.require<PublishedCredentials>(
            "the auth filter needs the credential set (internal wiring error)");
        if (!creds) return std::nullopt;
        auto usage = b.ctx.services.get<CredentialUsage>();
        auto meter = b.ctx.services.get<TokenMeter>();
        return FilterFactory([c = b.config, creds, usage, meter] {
          return std::make_unique<AuthFilter>(c, creds, usage, meter);
        });
      },
  });
}

}  // namespace gemgate::auth
