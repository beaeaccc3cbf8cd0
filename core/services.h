// Services: a small typed directory of shared objects (a key pool, a request-log sink, a
// transport) that the composition root puts in and filter factories take out by type. It keeps
// the dependency arrows one-way: core names no concrete service, filters name only interfaces.
#pragma once

#include <memory>
#include <typeindex>
#include <unordered_map>

namespace gemgate {

class Services {
 public:
  // Stores `service` under type T, replacing any earlier one.
  template <class T>
  void put(std::shared_ptr<T> service) {
    map_[std::type_index(typeid(T))] = std::shared_ptr<void>(service, service.get());
  }
  // Returns the service stored under type T, or nullptr.
  template <class T>
  std::shared_ptr<T> get() const {
    auto it = map_.find(std::type_index(typeid(T)));
    if (it == map_.end()) return nullptr;
    return std::static_pointer_cast<T>(it->second);
  }

 private:
  std::unordered_map<std::type_index, std::shared_ptr<void>> map_;
};

}  // namespace gemgate
