// KeyPool::merge_shared_health: folds the key health other gateways of a group wrote to the
// shared database into this process's live keys. Kept apart from key_pool.cpp (selection) so
// the group rules read in one place:
//   - the later decision wins: a stored view whose changed_ms is newer than ours brings its
//     disabled flag and reason (a key another gateway found invalid, or an admin enabled);
//     ours is kept when it is newer (it is written behind next, and the store keeps it);
//   - a 429 cooldown (key x model, until when) learned anywhere is honoured everywhere: per
//     model the later end wins; a newer decision (a reset) drops our cooldowns that predate it;
//   - circuit breakers stay per instance (a transient failure seen here says little about the
//     network path of another machine), so stored breakers are ignored.
// Nothing is marked dirty: the merged view is not ours to write back.
#include <algorithm>

#include "pool/key_pool.h"

namespace gemgate::pool {

namespace {

// Takes the later of `ours` and each of `theirs`' quota cooldowns; true when anything changed.
bool merge_cooldowns(std::vector<Cooldown>& ours, const std::vector<Cooldown>& theirs,
                     int64_t now_ms) {
  bool changed = false;
  for (const Cooldown& c : theirs) {
    if (c.breaker || c.until_ms <= now_ms) continue;
    auto it = std::find_if(ours.begin(), ours.end(),
                           [&](const Cooldown& o) { return !o.breaker && o.model == c.model; });
    if (it == ours.end()) {
      ours.push_back(c);
      changed = true;
    } else if (c.until_ms > it->until_ms) {
      it->until_ms = c.until_ms;
      it->strikes = std::max(it->strikes, c.strikes);
      it->last_strike_ms = std::max(it->last_strike_ms, c.last_strike_ms);
      changed = true;
    }
  }
  return changed;
}

}  // namespace

size_t KeyPool::merge_shared_health(const std::vector<KeyHealth>& shared, int64_t now_ms) {
  size_t changed_keys = 0;
  for (const KeyHealth& theirs : shared) {
    auto key = find(theirs.id);
    if (!key) continue;
    std::lock_guard<std::mutex> lock(key->mu_);
    KeyHealth& ours = key->health_;
    bool changed = false;
    if (theirs.changed_ms > ours.changed_ms) {
      changed = ours.disabled != theirs.disabled;
      ours.disabled = theirs.disabled;
      ours.reason = theirs.reason;
      const int64_t decided = theirs.changed_ms;
      size_t before = ours.cooldowns.size();
      std::erase_if(ours.cooldowns, [decided](const Cooldown& c) {
        return !c.breaker && c.last_strike_ms <= decided;
      });
      changed |= ours.cooldowns.size() != before;
      changed |= merge_cooldowns(ours.cooldowns, theirs.cooldowns, now_ms);
    } else if (theirs.changed_ms == ours.changed_ms) {
      if (theirs.disabled && !ours.disabled) {  // same decision time, different views: disabled
        ours.disabled = true;                   // wins (the safe side)
        ours.reason = theirs.reason;
        changed = true;
      }
      changed |= merge_cooldowns(ours.cooldowns, theirs.cooldowns, now_ms);
    }
    ours.last_used_ms = std::max(ours.last_used_ms, theirs.last_used_ms);
    ours.last_checked_ms = std::max(ours.last_checked_ms, theirs.last_checked_ms);
    if (!changed) continue;
    ++changed_keys;
    const int64_t decided = std::max(ours.changed_ms, theirs.changed_ms);
    const bool was_dirty = key->dirty_.load(std::memory_order_relaxed);
    key->publish_locked();      // may stamp a flip with now: the decision is theirs
    ours.changed_ms = decided;  // (and ours when it was the later one)
    key->dirty_.store(was_dirty, std::memory_order_relaxed);
  }
  return changed_keys;
}

}  // namespace gemgate::pool
