// Which server-side Gemini resources a call names, and which ones its answer created: pure
// functions over paths and JSON text, for the `affinity` filter (no I/O, no state).
//
// A resource name is Google's own: "files/abc", "cachedContents/x", "batches/y",
// "interactions/z", "tunedModels/t", "tunedModels/t/operations/o", "models/m/operations/o",
// "operations/o". Its kind is the first segment ("files", …), except operations: "operations".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::affinity {

// The resource a request path names, most specific first ("tunedModels/t/operations/o" gives
// that and "tunedModels/t"): for /v1beta/…, /v1/…, /v1alpha/… and /download/v1beta/… paths
// naming files/{id}, cachedContents/{id}, batches/{id}, interactions/{id}, tunedModels/{id}
// (and their operations), models/{m}/operations/{id} and operations/{id}, with or without a
// ":method" suffix (":cancel", ":download", ":generateContent"). Empty for anything else (model
// calls of base models, lists, the models list).
std::vector<std::string> names_in_path(std::string_view path);

// The resource name a reference in a body means: "files/abc" for "files/abc" and for the full
// URL "https://…/v1beta/files/abc" (also with ":download?alt=media"); the same for the other
// kinds; "" when it is none of them (an https image URL, a gs:// URI).
std::string name_from_reference(std::string_view reference);

// The most resources one call may name: a body naming more is refused (400), so a hostile body
// of a million references costs neither a quadratic scan nor a million store reads.
constexpr size_t kMaxNamesPerCall = 1000;

// Every resource a Gemini request body names: fileData.fileUri / file_uri (any depth, so batch
// requests inlined in the body count), cachedContent / cached_content, previous_interaction_id
// (as "interactions/<id>"), a batch's input file (fileName / file_name) and an interaction's
// document/image `uri`. Distinct, in order of appearance. Empty for a body that is not JSON or
// names none; cheap for bodies that cannot name any (a substring check before parsing). Linear in
// the body; stops after kMaxNamesPerCall + 1 names (more than kMaxNamesPerCall: too many).
std::vector<std::string> names_in_body(std::string_view body);

// The kind of a resource name: "files", "cachedContents", "batches", "interactions",
// "tunedModels", "operations"; "" for a name that is none of these.
std::string kind_of(std::string_view name);

// One resource an answer created (or refreshed), with its expiry when the answer gives one.
struct Created {
  std::string name;
  int64_t expires_at_ms = 0;  // 0 = the answer says nothing: the kind's default applies
};

// The resources a successful answer (`body`, JSON) to `method` `path` created or refreshed:
// an uploaded file ({"file": {"name", "expirationTime"}}), a cached content ({"name",
// "expireTime"}, also from PATCH), a batch or any long-running operation ({"name"} of an
// operation, plus the tuned model it makes, metadata.tunedModel / response.name), an
// interaction ({"id"} of POST …/interactions, as "interactions/<id>"), and files an operation's
// result names (generated videos by URI, a batch's response.responsesFile). Empty for answers that
// create nothing (GET of a model, generateContent, a list).
std::vector<Created> created_by_answer(std::string_view method, std::string_view path,
                                       std::string_view body);

// The interaction id an event stream of POST …/interactions (stream: true) announces: the
// `interaction.id` of its first `data:` event that has one (interaction.created / .start).
// Only complete lines are read; "" while none was seen.
std::string interaction_id_in_events(std::string_view text);

// Milliseconds since the epoch of an RFC 3339 time ("2026-12-08T06:00:00.123456Z", also with a
// "+02:00" offset); nullopt when it is not one.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace gemgate::affinity
