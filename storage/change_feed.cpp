#include "storage/change_feed.h"

namespace gemgate::storage {

std::string_view change_topic_name(ChangeTopic topic) {
  switch (topic) {
    case ChangeTopic::kKeys:
      return "keys";
    case ChangeTopic::kKeyHealth:
      return "key_health";
    case ChangeTopic::kTokens:
      return "tokens";
    case ChangeTopic::kSettings:
      return "settings";
    case ChangeTopic::kSessions:
      return "sessions";
    case ChangeTopic::kAll:
      return "all";
  }
  return "all";
}

std::optional<ChangeTopic> change_topic_from_name(std::string_view name) {
  for (ChangeTopic t : {ChangeTopic::kKeys, ChangeTopic::kKeyHealth, ChangeTopic::kTokens,
                        ChangeTopic::kSettings, ChangeTopic::kSessions, ChangeTopic::kAll}) {
    if (change_topic_name(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace gemgate::storage
