#include "pool/key_schedule.h"

#include <algorithm>

namespace gemgate::pool {

std::vector<uint32_t> weighted_order(const std::vector<uint32_t>& members,
                                     const std::vector<int>& weights) {
  struct Turn {
    int64_t num;  // the turn's place in the cycle is num / den
    int64_t den;
    uint32_t index;
  };
  std::vector<Turn> turns;
  for (uint32_t index : members) {
    int64_t w = std::max(1, weights[index]);
    for (int64_t k = 0; k < w; ++k) turns.push_back({2 * k + 1, 2 * w, index});
  }
  std::sort(turns.begin(), turns.end(), [](const Turn& a, const Turn& b) {
    int64_t l = a.num * b.den, r = b.num * a.den;  // exact: no floating point ties
    return l != r ? l < r : a.index < b.index;
  });
  std::vector<uint32_t> order;
  order.reserve(turns.size());
  for (const Turn& t : turns) order.push_back(t.index);
  return order;
}

const Rotation* KeySchedule::rotation(std::string_view group) const {
  if (group.empty()) return &all;
  auto it = groups.find(group);
  return it == groups.end() ? nullptr : it->second.get();
}

std::shared_ptr<const KeySchedule> build_schedule(const std::vector<int>& weights,
                                                  const std::vector<std::string>& groups,
                                                  const KeySchedule* previous) {
  auto schedule = std::make_shared<KeySchedule>();
  std::vector<uint32_t> everyone;
  std::map<std::string, std::vector<uint32_t>, std::less<>> by_group;
  for (uint32_t i = 0; i < weights.size(); ++i) {
    everyone.push_back(i);
    if (!groups[i].empty()) by_group[groups[i]].push_back(i);
  }
  auto fill = [&](Rotation& r, const std::vector<uint32_t>& members, const Rotation* before) {
    r.order = weighted_order(members, weights);
    r.members = members.size();
    if (before) r.cursor.store(before->cursor.load(std::memory_order_relaxed));
  };
  fill(schedule->all, everyone, previous ? &previous->all : nullptr);
  for (const auto& [name, members] : by_group) {
    auto r = std::make_unique<Rotation>();
    fill(*r, members, previous ? previous->rotation(name) : nullptr);
    schedule->groups.emplace(name, std::move(r));
  }
  return schedule;
}

}  // namespace gemgate::pool
