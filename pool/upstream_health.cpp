#include "pool/upstream_health.h"

#include <algorithm>

namespace gemgate::pool {

UpstreamHealth::Scope& UpstreamHealth::scope_locked(std::string_view name) {
  for (Scope& s : scopes_) {
    if (s.name == name) return s;
  }
  scopes_.push_back(Scope{});
  scopes_.back().name = std::string(name);
  return scopes_.back();
}

void UpstreamHealth::open_locked(Scope& s, int64_t now_ms) {
  s.open = true;
  s.suspected = false;
  s.wait_ms = kFirstTrialMs;
  s.next_trial_ms = now_ms + s.wait_ms;
  s.trial_until_ms = 0;
  s.evidence.clear();
}

void UpstreamHealth::failed_trial_locked(Scope& s, int64_t now_ms) {
  s.wait_ms = std::min(s.wait_ms * 2, kMaxTrialMs);
  s.next_trial_ms = now_ms + s.wait_ms;
  s.trial_until_ms = 0;
}

void UpstreamHealth::sync_counts_locked() {
  // Closed scopes without evidence carry nothing: drop them so the list stays tiny.
  scopes_.erase(std::remove_if(scopes_.begin(), scopes_.end(),
                               [](const Scope& s) { return !s.open && s.evidence.empty(); }),
                scopes_.end());
  int open = 0, evidence = 0, suspected = 0;
  for (const Scope& s : scopes_) {
    open += s.open ? 1 : 0;
    evidence += s.evidence.empty() ? 0 : 1;
    suspected += s.suspected ? 1 : 0;
  }
  open_.store(open, std::memory_order_relaxed);
  with_evidence_.store(evidence, std::memory_order_relaxed);
  suspected_.store(suspected, std::memory_order_relaxed);
}

bool UpstreamHealth::suspected(std::string_view model) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Scope& s : scopes_) {
    if (s.name == model && s.suspected) return true;
  }
  return false;
}

UpstreamHealth::Gate UpstreamHealth::admit(std::string_view model, int64_t now_ms) {
  Gate gate;
  if (open_.load(std::memory_order_relaxed) == 0) return gate;
  std::lock_guard<std::mutex> lock(mu_);
  for (Scope& s : scopes_) {
    if (!s.open || (!s.name.empty() && s.name != model)) continue;
    gate.scope = s.name;
    if (s.trial_until_ms <= now_ms && s.next_trial_ms <= now_ms) {
      s.trial_until_ms = now_ms + kTrialLeaseMs;
      gate.verdict = Gate::Verdict::kTrial;
      return gate;
    }
    gate.verdict = Gate::Verdict::kRefuse;
    // While a trial runs its result is due any moment; otherwise the next trial is.
    gate.retry_after_ms = s.trial_until_ms > now_ms ? kFirstTrialMs : s.next_trial_ms - now_ms;
    gate.retry_after_ms = std::max<int64_t>(gate.retry_after_ms, kFirstTrialMs);
    return gate;
  }
  return gate;
}

int64_t UpstreamHealth::retry_after_ms(std::string_view model, int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t wait = 0;
  for (const Scope& s : scopes_) {
    if (!s.open || (!s.name.empty() && s.name != model)) continue;
    wait = std::max({wait, s.next_trial_ms - now_ms, kFirstTrialMs});
  }
  return wait;
}

void UpstreamHealth::unreachable(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Scope& s = scope_locked("");
  if (!s.open) {
    open_locked(s, now_ms);
  } else if (s.trial_until_ms > now_ms) {
    failed_trial_locked(s, now_ms);
  }
  sync_counts_locked();
}

bool UpstreamHealth::transient(int64_t key_id, std::string_view model, int threshold,
                               int64_t now_ms, int64_t* window_start_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  bool holds = false;
  for (Scope& s : scopes_) {
    if (!s.open || (!s.name.empty() && s.name != model)) continue;
    if (s.trial_until_ms > now_ms) failed_trial_locked(s, now_ms);
    holds = true;
  }
  if (holds) {
    if (window_start_ms) *window_start_ms = now_ms;
    sync_counts_locked();
    return true;
  }
  Scope& s = scope_locked(model);
  if (s.evidence.empty() || now_ms - s.evidence_start_ms > kEvidenceWindowMs) {
    s.evidence.clear();
    s.evidence_start_ms = now_ms;
    s.suspected = false;  // what the old evidence suggested has to be shown again
  }
  if (std::find(s.evidence.begin(), s.evidence.end(), key_id) == s.evidence.end()) {
    s.evidence.push_back(key_id);
  }
  if (threshold > 0 && static_cast<int>(s.evidence.size()) >= threshold) {
    // Suspected, not open: others are refused only once a request of our own confirms it
    // (claim_probe, probe_failed).
    if (window_start_ms) *window_start_ms = s.evidence_start_ms;
    if (!s.suspected) s.trial_until_ms = 0;
    s.suspected = true;
    holds = true;
  }
  sync_counts_locked();
  return holds;
}

void UpstreamHealth::answered(std::string_view model) {
  if (open_.load(std::memory_order_relaxed) == 0 &&
      with_evidence_.load(std::memory_order_relaxed) == 0) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (Scope& s : scopes_) {
    if (s.name.empty() || s.name == model) {
      s.open = false;
      s.suspected = false;
      s.evidence.clear();
    }
  }
  sync_counts_locked();
}

bool UpstreamHealth::claim_probe(int64_t now_ms, std::string* scope) {
  if (!wants_probe()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (Scope& s : scopes_) {
    bool trial_due = s.open && s.next_trial_ms <= now_ms;
    bool check_due = !s.open && s.suspected;
    if ((trial_due || check_due) && s.trial_until_ms <= now_ms) {
      s.trial_until_ms = now_ms + kTrialLeaseMs;
      *scope = s.name;
      return true;
    }
  }
  return false;
}

void UpstreamHealth::probe_failed(std::string_view scope, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Scope& s : scopes_) {
    if (s.name != scope) continue;
    if (s.open) {
      failed_trial_locked(s, now_ms);
    } else if (s.suspected && s.trial_until_ms > now_ms) {
      open_locked(s, now_ms);  // the check claimed for it failed: a harmless request failed too
    }
  }
  sync_counts_locked();
}

}  // namespace gemgate::pool
