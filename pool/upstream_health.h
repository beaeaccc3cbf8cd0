// UpstreamHealth: whether the upstream itself (not one key) is failing, so that an outage costs
// no key its standing and clients get a fast answer instead of a pile of doomed attempts.
//
// Two signals open an outage:
//   - the upstream cannot be reached at all (connect refused, DNS, TLS): the whole upstream, at
//     once — the key never even left gemgate;
//   - transient answers (5xx, 408, timeouts, resets) from `threshold` distinct keys for the same
//     model within kEvidenceWindowMs with no good answer in between: that model upstream.
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
  // whole upstream) holds afterwards; then *window_start_ms (if given) gets the start of the
  // evidence that opened it, so the pool can forgive breaker strikes recorded since.
  bool transient(int64_t key_id, std::string_view model, int threshold, int64_t now_ms,
                 int64_t* window_start_ms = nullptr);
  // The upstream gave a good (non-transient) answer for `model`: closes the whole-upstream
  // outage and that model's, and forgets the model's evidence.
  void answered(std::string_view model);

  // For active probes: claims the trial of the first outage whose trial is due. Returns false
  // when none is; else *scope gets it (report with answered()/unreachable()/transient() or
  // probe_failed()).
  bool claim_probe(int64_t now_ms, std::string* scope);
  // A trial of `scope` failed without an answer worth classifying: the next one waits longer.
  void probe_failed(std::string_view scope, int64_t now_ms);

  // Milliseconds until the next trial of an outage blocking `model` (at least kFirstTrialMs), or
  // 0 when none blocks it. Claims nothing.
  int64_t retry_after_ms(std::string_view model, int64_t now_ms) const;

  // True while any outage is open (for views and tests).
  bool any_outage() const { return open_.load(std::memory_order_relaxed) > 0; }

 private:
  struct Scope {
    std::string name;  // a model, or "" for the whole upstream
    bool open = false;
    int64_t next_trial_ms = 0;
    int64_t wait_ms = kFirstTrialMs;
    int64_t trial_until_ms = 0;  // a trial holds the slot until then
    int64_t evidence_start_ms = 0;
    std::vector<int64_t> evidence;  // distinct keys that failed since evidence_start_ms
  };

  Scope& scope_locked(std::string_view name);
  void open_locked(Scope& s, int64_t now_ms);
  void failed_trial_locked(Scope& s, int64_t now_ms);
  void sync_counts_locked();

  mutable std::mutex mu_;
  std::vector<Scope> scopes_;          // guarded by mu_; a handful at most (models in use)
  std::atomic<int> open_{0};           // scopes open
  std::atomic<int> with_evidence_{0};  // scopes holding evidence
};

}  // namespace gemgate::pool
