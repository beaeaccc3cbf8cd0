// UpstreamHealth: whether the upstream itself (not one key) is failing, so that an outage costs
// no key its standing and clients get a fast answer instead of a pile of doomed attempts.
//
// Two signals open an outage:
//   - the upstream cannot be reached at all (connect refused, DNS, TLS): the whole upstream, at
//     once — the key never even left gemgate;
//   - transient answers (5xx, 408, timeouts, resets) from `threshold` distinct keys for the same
//     model within kEvidenceWindowMs with no good answer in between: that model upstream, once
//     confirmed. Such evidence may be one request's doing (Google fails some inputs with a 500 on
//     every key), and a client repeating it must not get the model refused to everyone: the
//     evidence only makes the model *suspected*. A suspected model is still served (a request
//     that fails is answered as in an outage, without trying more keys; a good answer clears the
//     suspicion) until an active probe, a harmless request of the gateway's own, decides: it
//     fails → the outage opens; Google answers → the suspicion is dropped.
// While an outage holds, requests are refused fast (Retry-After = the next trial), except one
// trial at a time once the trial is due: a real request (admit() says kTrial) or an active probe
// (claim_probe()). A good answer closes the outage; a failed trial doubles the wait (1 s → 4 s,
// so service returns within seconds of the upstream recovering). Not persisted: an outage is
// about now. Thread-safe; the fast path (no outage, no evidence) takes no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::pool {

class UpstreamHealth {
 public:
  static constexpr int64_t kEvidenceWindowMs = 10'000;
  static constexpr int64_t kFirstTrialMs = 1'000;   // wait before the first trial
  static constexpr int64_t kMaxTrialMs = 4'000;     // cap of the doubled wait
  static constexpr int64_t kTrialLeaseMs = 15'000;  // a trial that never reports frees its slot

  struct Gate {
    enum class Verdict { kServe, kTrial, kRefuse } verdict = Verdict::kServe;
    std::string scope;           // kTrial/kRefuse: the outage's scope ("" = the whole upstream)
    int64_t retry_after_ms = 0;  // kRefuse: until the next trial
  };

  // Decides whether a request for `model` may go upstream now. kTrial claims the outage's trial
  // slot: the caller must report the outcome (answered / failed) with the returned scope.
  Gate admit(std::string_view model, int64_t now_ms);

  // The upstream could not be reached: opens (or, for a trial, prolongs) the whole-upstream
  // outage.
  void unreachable(int64_t now_ms);
  // A transient failure of `key_id` for `model`. Returns true when an outage for `model` (or the
  // whole upstream) holds afterwards, or `model` is suspected of one (the evidence reached
  // `threshold` keys): the failure is not the key's, and the request should be answered as in an
  // outage. Then *window_start_ms (if given) gets the start of the evidence, so the pool can
  // forgive breaker strikes recorded since.
  bool transient(int64_t key_id, std::string_view model, int threshold, int64_t now_ms,
                 int64_t* window_start_ms = nullptr);
  // The upstream gave a good (non-transient) answer for `model`: closes the whole-upstream
  // outage and that model's, and forgets the model's evidence and suspicion.
  void answered(std::string_view model);

  // For active probes: claims the trial of the first outage whose trial is due, or the check of
  // a suspected model not being checked. Returns false when there is none; else *scope gets it
  // (report with answered()/unreachable() or probe_failed()).
  bool claim_probe(int64_t now_ms, std::string* scope);
  // A trial or check of `scope` failed without an answer worth classifying: an outage's next
  // trial waits longer; a suspected model's outage opens (confirmed by a request of our own).
  void probe_failed(std::string_view scope, int64_t now_ms);

  // Milliseconds until the next trial of an outage blocking `model` (at least kFirstTrialMs), or
  // 0 when none blocks it. Claims nothing.
  int64_t retry_after_ms(std::string_view model, int64_t now_ms) const;

  // True while any outage is open (for views and tests).
  bool any_outage() const { return open_.load(std::memory_order_relaxed) > 0; }
  // True while an outage is open or a model suspected: the active probe has work.
  bool wants_probe() const {
    return open_.load(std::memory_order_relaxed) + suspected_.load(std::memory_order_relaxed) > 0;
  }
  // True while `model` is suspected of an outage not yet confirmed (for tests).
  bool suspected(std::string_view model) const;

 private:
  struct Scope {
    std::string name;  // a model, or "" for the whole upstream
    bool open = false;
    int64_t next_trial_ms = 0;
    int64_t wait_ms = kFirstTrialMs;
    int64_t trial_until_ms = 0;  // a trial (or a suspected model's check) holds the slot until then
    int64_t evidence_start_ms = 0;
    std::vector<int64_t> evidence;  // distinct keys that failed since evidence_start_ms
    bool suspected = false;         // the evidence reached the threshold; not confirmed (closed)
  };

  Scope& scope_locked(std::string_view name);
  void open_locked(Scope& s, int64_t now_ms);
  void failed_trial_locked(Scope& s, int64_t now_ms);
  void sync_counts_locked();

  mutable std::mutex mu_;
  std::vector<Scope> scopes_;          // guarded by mu_; a handful at most (models in use)
  std::atomic<int> open_{0};           // scopes open
  std::atomic<int> with_evidence_{0};  // scopes holding evidence
  std::atomic<int> suspected_{0};      // closed scopes suspected of an outage
};

}  // namespace gemgate::pool
