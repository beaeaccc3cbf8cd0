#include "filters/keys/keys_filter.h"

#include <optional>
#include <span>
#include <vector>

#include "core/exchange.h"
#include "core/log.h"
#include "filters/common/gemini_paths.h"
#include "filters/common/key_pin.h"
#include "filters/common/request_id.h"
#include "filters/common/upstream_attempt.h"

namespace gemgate::keys {

// The key pool is this filter's service (pool/); its names read here as they did when the pool
// lived in this folder.
using namespace gemgate::pool;

namespace {

// The ids of the keys one upstream call tried, in order: the first few held inline (an attempt
// costs no allocation), more on the heap.
class TriedKeys {
 public:
  void push_back(int64_t id) {
    if (more_.empty() && count_ < kInline) {
      first_[count_++] = id;
      return;
    }
    if (more_.empty()) more_.assign(first_, first_ + count_);
    more_.push_back(id);
  }
  std::span<const int64_t> ids() const {
    return more_.empty() ? std::span<const int64_t>(first_, count_) : std::span(more_);
  }

 private:
  static constexpr size_t kInline = 4;
  int64_t first_[kInline] = {};
  size_t count_ = 0;
  std::vector<int64_t> more_;
};

// Survives replays (run slot): which keys this upstream call tried, and the last failed answer.
struct KeysAttempts {
  TriedKeys tried;
  std::optional<http::Response> last_failure;
};

using Verdict = UpstreamHealth::Gate::Verdict;

// What an operator reads about a failed attempt in the request and error logs: the short reason
// and Google's own words ("UNAVAILABLE: The model is overloaded. ..."), clipped. Redacted by the
// caller and again by the log sink.
std::string describe(const Outcome& outcome) {
  constexpr size_t kMaxText = 300;
  std::string text = outcome.reason;
  if (!outcome.message.empty() && outcome.message != outcome.reason) {
    text += text.empty() ? "" : ": ";
    text += outcome.message;
  }
  if (text.size() > kMaxText) {
    size_t cut = kMaxText;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    text.resize(cut);
    text += "…";
  }
  return text;
}

std::string retry_after_seconds(int64_t ms) {
  return std::to_string(std::max<int64_t>(1, (ms + 999) / 1000));
}

class KeysFilter final : public Filter {
 public:
  KeysFilter(std::shared_ptr<KeyPool> pool, std::shared_ptr<LogSink> sink)
      : pool_(std::move(pool)), sink_(std::move(sink)) {}

  Status on_request(FilterCallbacks& x) override {
    KeysAttempts& attempts = x.run_slot<KeysAttempts>();
    // The model lives in info().model (this filter is its writer); model_ views it.
    std::string_view in_path = gemini::model_in_path(x.request().path);
    if (!in_path.empty() && x.info().model != in_path) x.info().model.assign(in_path);
    model_ = in_path.empty() ? std::string_view() : std::string_view(x.info().model);
    int64_t now = now_unix_ms();
    // During an upstream outage, answer at once instead of spending keys and the client's time;
    // one request at a time goes through as the outage's trial.
    UpstreamHealth::Gate gate = pool_->upstream().admit(model_, now);
    if (gate.verdict == Verdict::kRefuse) {
      reply_outage(x, gate.retry_after_ms);
      return Status::Stop;
    }
    if (gate.verdict == Verdict::kTrial) trial_scope_ = gate.scope;
    trial_ = gate.verdict == Verdict::kTrial;
    if (const common::KeyPin* pin = x.find_slot<common::KeyPin>(); pin && pin->pinned()) {
      key_ = pinned_key(x, *pin, attempts, now);
    } else {
      group_ = x.info().key_group;
      KeyPool::Pick pick = pool_->pick(model_, attempts.tried.ids(), now, group_);
      key_ = pick.key;
      if (!key_) reply_no_key(x, pick, attempts);
    }
    if (!key_) {
      // A trial that found no key frees the outage's slot for a probe or a later request.
      if (trial_) pool_->upstream().probe_failed(trial_scope_, now);
      return Status::Stop;
    }
    attempts.tried.push_back(key_->id());
    x.run_slot<upstream::UpstreamAttempt>() = {};  // only the terminal below may report a failure
    x.run_slot<upstream::AttemptProxy>().url = key_->policy()->proxy;
    x.info().key_id = key_->id();
    x.request().headers.set("x-goog-api-key", key_->secret());
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    if (!key_) return Status::Continue;
    http::Response& r = x.response();
    const upstream::UpstreamAttempt& attempt = x.run_slot<upstream::UpstreamAttempt>();
    Outcome outcome;
    if (attempt.failure) {
      outcome = classify_transport_failure(*attempt.failure, attempt.message);
      // Through a proxy of the key's own, failing to connect says that proxy is down, not that
      // the upstream is: the key fails (and fails over), no outage is declared for every key.
      if (outcome.kind == OutcomeKind::kUnreachable && !key_->policy()->proxy.empty()) {
        outcome.kind = OutcomeKind::kTransient;
        outcome.reason =
            "the proxy of key " + std::to_string(key_->id()) + " is unreachable: " + outcome.reason;
      }
    } else if (r.local_error) {
      // Produced inside gemgate below us; says nothing about the key. A trial that never
      // reached Google frees the outage's slot.
      if (trial_) pool_->upstream().probe_failed(trial_scope_, now_unix_ms());
      return Status::Continue;
    } else {
      outcome = classify_response(r.status, r.body);
    }
    int64_t now = now_unix_ms();
    pool_->metrics().count_attempt(outcome);
    bool outage = pool_->record(*key_, model_, outcome, policy_from(x.settings()), now);
    if (outage) {
      // Not the key's fault, and more attempts would only fail alike: answer fast. An open
      // outage's trials and the active probe find out when the upstream is back; a merely
      // suspected model stays served to others until the probe confirms (UpstreamHealth).
      report(x, outcome, now);
      int64_t wait = pool_->upstream().retry_after_ms(model_, now);
      reply_outage(x, wait > 0 ? wait : UpstreamHealth::kFirstTrialMs);
      return Status::Continue;
    }
    if (outcome.kind == OutcomeKind::kSuccess) {
      served_ = true;
      // An earlier attempt's failure is history once an answer stands.
      x.info().error.clear();
      x.info().error_kind.clear();
      return Status::Continue;
    }
    if (outcome.kind == OutcomeKind::kClientError) {
      // Google's answer goes back as it is; the request log row says what Google said (an
      // earlier attempt's failure is history). No error-log row: nothing failed on our side.
      x.info().error = log::redact(describe(outcome));
      x.info().error_kind = outcome.kind_name;
      return Status::Continue;
    }
    report(x, outcome, now);
    switch (outcome.kind) {
      case OutcomeKind::kKeyInvalid:
        x.reply_local(503, "UNAVAILABLE",
                      "no pool key could serve this request: Google rejected key " +
                          std::to_string(key_->id()) + " (" + outcome.reason +
                          "), which is now disabled");
        break;
      case OutcomeKind::kQuota: {
        int64_t wait = pool_->wait_for_model_ms(model_, now);
        x.reply_local(429, "RESOURCE_EXHAUSTED",
                      "the API keys are out of quota for " +
                          (model_.empty() ? std::string("this request") : std::string(model_)) +
                          "; retry later");
        if (wait > 0) x.response().headers.set("retry-after", retry_after_seconds(wait));
        break;
      }
      default:
        break;  // transient: the upstream's own answer (or the terminal's plain error) stands
    }
    x.response().retriable = true;
    x.run_slot<KeysAttempts>().last_failure = x.response();
    return Status::Continue;
  }

  // The answer's tokens count against the key's tpm once they are known: at the end, streams
  // included (the usage arrives with the last chunk).
  void on_done(const FilterCallbacks& x) override {
    if (key_ && served_ && x.info().usage.known) {
      key_->charge_tokens(x.info().usage.total, now_unix_ms());
    }
  }

 private:
  // The answer during an upstream outage: 503 with Retry-After, in the chain's error shape,
  // with a request id; not retriable (another key would fail alike).
  void reply_outage(FilterCallbacks& x, int64_t retry_after_ms) {
    std::string wait = retry_after_seconds(retry_after_ms);
    http::LocalError e{503, "UNAVAILABLE",
                       "the upstream API is unavailable at the moment; retry after " + wait + "s",
                       ""};
    if (x.info().error.empty()) {
      x.info().error = "upstream outage";
      x.info().error_kind = "upstream_outage";
    }
    http::Response r = common::error_with_request_id(x, std::move(e));
    r.headers.set("retry-after", wait);
    x.respond(std::move(r));
  }

  // The key a KeyPin names, when it can serve this attempt; otherwise replies (see key_pin.h:
  // gone or disabled -> 409, cooling or at its own rpm/tpm limit -> 503 + Retry-After, already
  // tried -> that attempt's answer) and returns null. Never another key. A pinned call counts
  // in the key's rpm window like a picked one.
  std::shared_ptr<PoolKey> pinned_key(FilterCallbacks& x, const common::KeyPin& pin,
                                      KeysAttempts& attempts, int64_t now) {
    if (attempts.last_failure) {  // a replay after the owning key failed: that answer stands
      http::Response r = *attempts.last_failure;
      r.retriable = false;
      x.respond(std::move(r));
      return nullptr;
    }
    std::shared_ptr<PoolKey> key = pool_->find(pin.key_id);
    const std::string owner = (pin.resource.empty() ? std::string("the resource") : pin.resource) +
                              " belongs to pool key " + std::to_string(pin.key_id);
    int64_t until = 0;
    if (!key) {
      reply_pinned(x, {409, "FAILED_PRECONDITION",
                       owner + ", which is no longer in the pool; it cannot be used through any "
                               "other key",
                       ""});
    } else if (key->disabled()) {
      reply_pinned(x, {409, "FAILED_PRECONDITION",
                       owner + ", which is disabled (" + key->health().reason +
                           "); it cannot be used through any other key until that key is enabled",
                       ""});
    } else if (!key->usable_for(model_, now, &until)) {
      int64_t wait = std::max<int64_t>(until - now, 1000);
      reply_pinned(x,
                   {503, "UNAVAILABLE",
                    owner + ", which is cooling down" +
                        (model_.empty() ? std::string() : " for " + std::string(model_)) +
                        "; retry after " + retry_after_seconds(wait) + "s",
                    ""},
                   wait);
    } else if (int64_t busy = pool_->take_pinned(*key, now); busy > 0) {
      int64_t wait = std::max<int64_t>(busy, 1000);
      reply_pinned(x,
                   {503, "UNAVAILABLE",
                    owner + ", which is at its own requests-per-minute limit; retry after " +
                        retry_after_seconds(wait) + "s",
                    ""},
                   wait);
    } else {
      return key;
    }
    return nullptr;
  }

  // A pinned call's refusal: `e` in the chain's error shape, Retry-After when `retry_after_ms`.
  void reply_pinned(FilterCallbacks& x, http::LocalError e, int64_t retry_after_ms = 0) {
    x.info().error = e.message;
    x.info().error_kind = "pinned_key_unavailable";
    http::Response r;
    r.status = e.status;
    r.local_error = std::move(e);
    if (retry_after_ms > 0) r.headers.set("retry-after", retry_after_seconds(retry_after_ms));
    x.respond(std::move(r));
  }

  void reply_no_key(FilterCallbacks& x, const KeyPool::Pick& pick, KeysAttempts& attempts) {
    using Why = KeyPool::Pick::Why;
    // Once this call has failed somewhere, its last real answer says more than "no key left".
    if ((pick.why == Why::kAllTried || pick.why == Why::kAllCooling || pick.why == Why::kAllBusy) &&
        attempts.last_failure) {
      http::Response r = *attempts.last_failure;
      r.retriable = false;
      x.respond(std::move(r));
      return;
    }
    http::LocalError e;
    // A token limited to a key group hears which group had no key for it.
    const std::string keys = group_.empty() ? "keys" : "keys of group '" + group_ + "'";
    switch (pick.why) {
      case Why::kNoKeys:
        e = group_.empty()
                ? http::LocalError{503, "UNAVAILABLE",
                                   "gemgate has no API keys; add keys with API_KEYS or the "
                                   "admin API",
                                   ""}
                : http::LocalError{
                      503, "UNAVAILABLE",
                      "no API key is in group '" + group_ + "', the key group of this token", ""};
        break;
      case Why::kAllDisabled:
      case Why::kAllTried:
        e = {503, "UNAVAILABLE", "no healthy API key is available: all " + keys + " are disabled",
             ""};
        break;
      case Why::kAllCooling:
        e = {429, "RESOURCE_EXHAUSTED",
             "all API " + keys + " are cooling down after quota errors" +
                 (model_.empty() ? std::string() : " for " + std::string(model_)) +
                 "; retry after " + retry_after_seconds(pick.retry_after_ms) + "s",
             ""};
        break;
      case Why::kAllBusy:
        e = {429, "RESOURCE_EXHAUSTED",
             "all API " + keys +
                 " are busy (at their own requests/tokens-per-minute limits or cooling down); "
                 "retry after " +
                 retry_after_seconds(pick.retry_after_ms) + "s",
             ""};
        break;
      case Why::kOk:
        break;
    }
    x.info().error = e.message;
    x.info().error_kind = "no_key";
    http::Response r;
    r.status = e.status;
    r.local_error = e;
    if (pick.why == Why::kAllCooling || pick.why == Why::kAllBusy)
      r.headers.set("retry-after", retry_after_seconds(pick.retry_after_ms));
    x.respond(std::move(r));
  }

  void report(FilterCallbacks& x, const Outcome& outcome, int64_t now) {
    std::string text = log::redact(describe(outcome));
    x.info().error = text;
    x.info().error_kind = outcome.kind_name;
    x.info().failed_key_ids.push_back(key_->id());
    if (!sink_) return;
    AttemptFailure f;
    f.time_ms = now;
    f.key_id = key_->id();
    f.model.assign(model_);
    f.status = outcome.status;
    f.kind = outcome.kind_name;
    f.message = std::move(text);
    f.route = x.info().route;
    sink_->record_attempt_failure(f);
  }

  std::shared_ptr<KeyPool> pool_;
  std::shared_ptr<LogSink> sink_;
  std::shared_ptr<PoolKey> key_;
  std::string_view model_;   // the attempt's model, in x.info().model ("" = none in the path)
  std::string group_;        // the token's key group, "" = every key
  bool served_ = false;      // the key's answer was a success: its usage counts against its tpm
  bool trial_ = false;       // this attempt is an outage's trial
  std::string trial_scope_;  // ... of this scope
};

}  // namespace

PoolPolicy policy_from(const Settings& settings) {
  PoolPolicy p;
  p.breaker_threshold = static_cast<int>(settings.get(kMaxFailures));
  p.cooldown_default_ms = settings.get(kCooldownDefaultS) * 1000;
  p.cooldown_max_ms = settings.get(kCooldownMaxS) * 1000;
  return p;
}

Result<void> register_keys_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kMaxFailures.with(
          {.description = "Consecutive transient failures (5xx, timeouts) of a key for one model "
                          "that open its circuit breaker (1 s doubling to 60 s, then one trial); "
                          "never disables a key. 0 = no breaker.",
           .default_json = "3",
           .min = 0,
           .max = 100}),
      kCooldownDefaultS.with(
          {.description = "Cooldown of a key x model after a quota error (429) when Google gives "
                          "no retry delay; doubles on repeats within a day.",
           .default_json = "60",
           .min = 1,
           .max = 86400}),
      kCooldownMaxS.with({.description = "Upper bound of a grown quota cooldown.",
                          .default_json = "3600",
                          .min = 1,
                          .max = 7 * 86400}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "keys",
      .summary = "picks a healthy pool key per attempt and learns from Google's answers",
      .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
        auto pool = b.require<KeyPool>("the keys filter needs a key pool (internal wiring error)");
        if (!pool) return std::nullopt;
        auto sink = b.ctx.services.get<LogSink>();  // optional: no rows without one
        return FilterFactory([pool, sink] { return std::make_unique<KeysFilter>(pool, sink); });
      },
  });
}

}  // namespace gemgate::keys
