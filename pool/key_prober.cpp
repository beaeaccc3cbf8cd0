#include "pool/key_prober.h"

#include <algorithm>
#include <memory>

#include "transports/transport.h"

namespace gemgate::pool {

namespace {

// One probe in flight; owns itself and goes away on a later loop turn after reporting.
class ProbeCall final : public transport::UpstreamHandler {
 public:
  ProbeCall(Worker& worker, std::function<void(Outcome)> done)
      : worker_(worker), done_(std::move(done)) {}

  void start(transport::Transport& t, transport::UpstreamRequest req) {
    transfer_ = t.start(std::move(req), *this);
  }

  void on_upstream_head(int status, http::HeaderMap) override { status_ = status; }
  void on_upstream_data(std::string_view chunk) override {
    if (body_.size() < 64 * 1024) body_.append(chunk);
  }
  void on_upstream_done(const transport::Failure* failure) override {
    Outcome outcome = failure ? classify_transport_failure(failure->kind, failure->message)
                              : classify_response(status_, body_);
    auto done = std::move(done_);
    transfer_.reset();
    worker_.next_tick([self = this] { delete self; });
    if (done) done(std::move(outcome));
  }

 private:
  Worker& worker_;
  std::function<void(Outcome)> done_;
  std::unique_ptr<transport::Transfer> transfer_;
  int status_ = 0;
  std::string body_;
};

}  // namespace

void probe_key(Worker& worker, const PoolKey& key, const ProbeOptions& options,
               std::function<void(Outcome)> done) {
  auto transport = worker.services().get<transport::Transport>();
  if (!transport) {
    Outcome o = classify_transport_failure(transport::FailureKind::kInternal,
                                           "no transport on this worker");
    worker.next_tick([done = std::move(done), o] { done(o); });
    return;
  }
  transport::UpstreamRequest req;
  req.method = "POST";
  req.url = options.base_url + "/v1beta/models/" + options.model + ":generateContent";
  req.headers.set("content-type", "application/json");
  req.headers.set("x-goog-api-key", key.secret());
  req.body = std::make_shared<const std::string>(
      R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":1}})");
  req.timeouts.total_ms = options.timeout_ms;
  req.timeouts.first_byte_ms = options.timeout_ms;
  // A probe is that key's traffic too: it leaves through the key's own proxy when it has one.
  const std::string& own_proxy = key.policy()->proxy;
  req.proxy = own_proxy.empty() ? options.proxy : own_proxy;
  auto* call = new ProbeCall(worker, std::move(done));
  call->start(*transport, std::move(req));
}

bool probe_upstream_outage(Worker& worker, std::shared_ptr<KeyPool> pool, ProbeOptions options) {
  UpstreamHealth& health = pool->upstream();
  int64_t now = now_unix_ms();
  std::string scope;
  if (!health.claim_probe(now, &scope)) return false;
  // Any key Google has not rejected will do: the question is whether Google answers at all.
  // One without a proxy of its own is preferred: its route is the upstream's, not its proxy's.
  std::shared_ptr<PoolKey> key;
  const auto key_list = pool->keys();  // held: a range-for over *temporary dangles
  for (const auto& k : *key_list) {
    if (k->disabled()) continue;
    if (!key) key = k;
    if (k->policy()->proxy.empty()) {
      key = k;
      break;
    }
  }
  if (!key) {
    health.probe_failed(scope, now);
    return true;
  }
  if (!scope.empty()) options.model = scope;
  // Shorter than the trial's lease, so two probes of one outage never overlap.
  options.timeout_ms = std::min<int64_t>(options.timeout_ms, UpstreamHealth::kTrialLeaseMs - 5'000);
  const bool own_proxy = !key->policy()->proxy.empty();
  probe_key(
      worker, *key, options, [pool, key, scope, own_proxy, model = options.model](Outcome outcome) {
        UpstreamHealth& h = pool->upstream();
        int64_t at = now_unix_ms();
        switch (outcome.kind) {
          case OutcomeKind::kUnreachable:
            // Through the key's own proxy, a connect failure is that proxy's, not the upstream's.
            if (!own_proxy) h.unreachable(at);
            h.probe_failed(scope, at);
            break;
          case OutcomeKind::kTransient:
            h.probe_failed(scope, at);
            break;
          default:
            h.answered(model);  // Google answered with something other than a failure of its own
            break;
        }
      });
  return true;
}

}  // namespace gemgate::pool
