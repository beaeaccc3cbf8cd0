// Helpers for the golden-file tests: reading case files, structural JSON comparison with a
// readable first difference, and splitting SSE text into events.
#pragma once

#include <filesystem>
#include <rapidjson/document.h>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::openai::test {

// GOLDEN_DIR/<sub>/... files (or folders when dirs is true), sorted by name.
std::vector<std::filesystem::path> golden_entries(std::string_view sub, bool dirs = false);

std::string read_file(const std::filesystem::path& p);
// Parses a file or string; fails the current test on invalid JSON.
void load_json(const std::filesystem::path& p, rapidjson::Document& doc);
void parse_or_fail(std::string_view text, rapidjson::Document& doc, std::string_view what);
std::string to_json(const rapidjson::Value& v, bool pretty = false);

// "" when equal (objects compare unordered, numbers by value), else the first difference with its
// JSON path.
std::string json_diff(const rapidjson::Value& expected, const rapidjson::Value& actual,
                      const std::string& path = "$");

// Splits SSE text into event payloads (the text after "data: "); "" in `framing_error` unless an
// event is not a single "data: " line followed by a blank line.
std::vector<std::string> sse_events(std::string_view text, std::string* framing_error = nullptr);

// Compares an expected and an actual OpenAI SSE stream event by event ([DONE] literally, JSON
// structurally). "" when equal.
std::string sse_diff(std::string_view expected, std::string_view actual);

}  // namespace gemgate::openai::test
