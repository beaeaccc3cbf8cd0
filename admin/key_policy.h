// The admin API's side of a pool key's policy (weight, group, rpm, tpm, proxy, note): reading
// and checking it from JSON and from bulk-import lines, and the conversions to the stored form.
// Every refusal names the field (and the line, for imports).
#pragma once

#include <optional>
#include <rapidjson/document.h>
#include <string>
#include <string_view>
#include <vector>

#include "pool/key_pool.h"
#include "storage/types.h"

namespace gemgate::admin {

// The fields one PATCH (or one import line) sets; absent ones keep their value.
struct KeyPolicyPatch {
  std::optional<int> weight;
  std::optional<std::string> group;
  std::optional<int64_t> rpm;
  std::optional<int64_t> tpm;
  std::optional<std::string> proxy;  // "" (or JSON null) = no proxy of its own
  std::optional<std::string> note;

  // `current` with this patch applied. A proxy equal to the masked form of the current one
  // (what GET shows, sent back unchanged by an editor) keeps the current proxy.
  pool::KeyPolicy applied_to(const pool::KeyPolicy& current) const;
  bool empty() const { return !weight && !group && !rpm && !tpm && !proxy && !note; }
};

// A refused value: the field it names and why.
struct PolicyProblem {
  std::string field;
  std::string message;
};

// Reads the policy fields of a JSON object (weight, group, rpm, tpm, proxy, note). Members
// named in `also_allowed` are skipped; any other member is refused as unknown.
std::optional<PolicyProblem> read_policy_json(const rapidjson::Value& object, KeyPolicyPatch& patch,
                                              const std::vector<std::string_view>& also_allowed);

// One bulk-import line with options: "key,weight=2,group=paid,rpm=60,tpm=100000,
// proxy=socks5h://host:1080,note=text". The options after the key may come in any order.
struct KeyLine {
  std::string secret;
  KeyPolicyPatch patch;
};
std::optional<PolicyProblem> parse_key_line(std::string_view line, KeyLine& out);

// Whether an import text line carries options (has '='); such a line holds one key.
bool has_key_options(std::string_view line);

// Conversions to the stored policy.
storage::KeyPolicyRow to_stored(const pool::KeyPolicy& p);

// Teaches the log redactor a proxy URL and its password (a proxy may carry one).
void register_proxy_secret(std::string_view proxy);

}  // namespace gemgate::admin
