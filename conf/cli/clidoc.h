// clidoc: turns the one source of gemgate's command-line documentation (conf/cli/manual.txt, its
// format described at the top of that file) into the `--help` text and the man page gemgate(1),
// so the two can never disagree. Used at build time by gemgate-clidoc (clidoc_main.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace gemgate::clidoc {

// A paragraph of prose (term empty) or a term with its definition, as lines of the source.
struct Block {
  std::string term;
  std::vector<std::string> lines;
};

// One [TITLE] section; `in_help` when it is marked `help` and so appears in --help too.
struct Section {
  std::string title;
  bool in_help = false;
  std::vector<Block> blocks;
};

// The whole manual: `name - summary`, the `Usage:` synopsis, and the sections in order.
struct Manual {
  std::string name;
  std::string summary;
  std::string synopsis;
  std::vector<Section> sections;
};

// Parses the manual source `text`; `file` names it in errors. Returns the manual, or an
// invalid-argument error "FILE:LINE: what is wrong" (missing name or usage line, text before the
// first section, an unknown section flag, a definition without a term, an empty section).
Result<Manual> parse(std::string_view text, std::string_view file);

// The --help text: "Usage: ..." and, after a blank line each, every section marked `help` —
// prose as written, entries under "Title:" with their definitions in one aligned column.
// Ends with a newline.
std::string render_help(const Manual& manual);

// The man page (roff with the man macros, section 1): NAME, SYNOPSIS, then every section.
// Prose is refilled; terms are bold (their argument words in italics). `version` appears in the
// page footer. Every character that roff would interpret is escaped.
std::string render_man(const Manual& manual, std::string_view version);

// A C++ source file defining `const char* const <name>` in namespace `ns` whose value is `text`
// exactly (a raw string literal with a delimiter that does not occur in the text).
std::string render_cpp(std::string_view text, std::string_view ns, std::string_view name);

}  // namespace gemgate::clidoc
