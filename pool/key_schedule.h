// The weighted order in which the pool hands out its keys: smooth weighted round-robin,
// precomputed. A key of weight w appears w times in each cycle of sum(weights) turns, its turns
// spread evenly over the cycle (stride scheduling: the k-th turn of a weight-w key sits at
// (k + 1/2) / w of the cycle), so a weight-3 key gets three times the traffic of a weight-1 key
// and never more than its weight's share in a row. Built once per change of the key list or of
// a key's weight/group (an admin act), read lock-free by every pick: a pick costs one atomic
// increment of the group's cursor, as the plain round-robin did.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gemgate::pool {

// The keys of one group (or of all keys) in weighted order, with its own cursor.
struct Rotation {
  std::vector<uint32_t> order;  // indices into the key list, sum(weights) long
  size_t members = 0;           // distinct keys in `order`
  mutable std::atomic<uint64_t> cursor{0};
};

// Returns the weighted order of `weights` (one per key, each clamped to >= 1) over the indices
// `members` of the key list: each index appears weights[index] times, evenly spread; ties go to
// the lower index. Pure function.
std::vector<uint32_t> weighted_order(const std::vector<uint32_t>& members,
                                     const std::vector<int>& weights);

// Every rotation of one key list: all keys (the default, for requests without a key group) and
// one per named group. Immutable once built (cursors aside).
struct KeySchedule {
  Rotation all;
  std::map<std::string, std::unique_ptr<Rotation>, std::less<>> groups;

  // The rotation of `group` ("" = all keys), or null when no key has that group.
  const Rotation* rotation(std::string_view group) const;
};

// Builds the schedule of keys with these weights and groups (parallel vectors, one per key of
// the list, in list order). `previous` (may be null) hands its cursors on, so an edit does not
// restart every rotation at its first key.
std::shared_ptr<const KeySchedule> build_schedule(const std::vector<int>& weights,
                                                  const std::vector<std::string>& groups,
                                                  const KeySchedule* previous);

}  // namespace gemgate::pool
