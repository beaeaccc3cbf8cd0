// clidoc: the one source of --help and gemgate(1) — parsing, its errors, and both renderings.
#include "conf/cli/clidoc.h"

#include <doctest/doctest.h>

using namespace gemgate;

namespace {

constexpr const char* kManual = R"(# a comment
tool - does things
Usage: tool [--flag] [--file PATH]

[DESCRIPTION] help
Does things well.
Second line.

[OPTIONS] help
--flag
    sets the flag
--a-very-long-option NAME
    wraps below
    and continues

[NOTES]
.starts with a dot and has a back\slash
'quoted at the start
)";

}  // namespace

TEST_CASE("clidoc parses name, usage, sections, prose and entries") {
  Result<clidoc::Manual> m = clidoc::parse(kManual, "m.txt");
  REQUIRE(m.ok());
  CHECK(m->name == "tool");
  CHECK(m->summary == "does things");
  CHECK(m->synopsis == "tool [--flag] [--file PATH]");
  REQUIRE(m->sections.size() == 3);
  CHECK(m->sections[0].in_help);
  CHECK_FALSE(m->sections[2].in_help);
  REQUIRE(m->sections[0].blocks.size() == 1);
  CHECK(m->sections[0].blocks[0].lines.size() == 2);
  REQUIRE(m->sections[1].blocks.size() == 2);
  CHECK(m->sections[1].blocks[1].term == "--a-very-long-option NAME");
  CHECK(m->sections[1].blocks[1].lines.size() == 2);
}

TEST_CASE("clidoc --help: usage, help sections only, aligned definitions") {
  Result<clidoc::Manual> m = clidoc::parse(kManual, "m.txt");
  REQUIRE(m.ok());
  std::string help = clidoc::render_help(*m);
  CHECK(help ==
        "Usage: tool [--flag] [--file PATH]\n"
        "\n"
        "Does things well.\n"
        "Second line.\n"
        "\n"
        "Options:\n"
        "  --flag             sets the flag\n"
        "  --a-very-long-option NAME\n"
        "                     wraps below\n"
        "                     and continues\n");
  CHECK(help.find("back") == std::string::npos);  // [NOTES] is man-only
}

TEST_CASE("clidoc man page: every section, terms bold, roff characters escaped") {
  Result<clidoc::Manual> m = clidoc::parse(kManual, "m.txt");
  REQUIRE(m.ok());
  std::string man = clidoc::render_man(*m, "1.2.3");
  CHECK(man.find(".TH TOOL 1 \"\" \"tool 1.2.3\"") != std::string::npos);
  CHECK(man.find(".SH NAME\ntool \\- does things\n") != std::string::npos);
  CHECK(man.find(".SH NOTES\n") != std::string::npos);
  CHECK(man.find(".TP\n\\fB\\-\\-flag\\fR\nsets the flag\n") != std::string::npos);
  CHECK(man.find("\\fB\\-\\-a\\-very\\-long\\-option\\fR \\fINAME\\fR") != std::string::npos);
  // A line that would be a roff request is neutralised; a backslash is printed, not interpreted.
  CHECK(man.find("\n\\&.starts with a dot and has a back\\eslash\n") != std::string::npos);
  CHECK(man.find("\n\\&'quoted at the start\n") != std::string::npos);
  CHECK(man.find("\n.starts") == std::string::npos);
}

TEST_CASE("clidoc C++ source keeps the text exactly, whatever it contains") {
  std::string text = "a )clidoc\" b\n";
  std::string cpp = clidoc::render_cpp(text, "ns", "kText");
  CHECK(cpp.find("const char* const kText = R\"clidoc_(a )clidoc\" b\n)clidoc_\";") !=
        std::string::npos);
  CHECK(cpp.find("namespace ns {") != std::string::npos);
}

TEST_CASE("clidoc reports malformed manuals with file and line") {
  auto error_of = [](const char* text) {
    Result<clidoc::Manual> m = clidoc::parse(text, "m.txt");
    REQUIRE_FALSE(m.ok());
    return m.error().message;
  };
  CHECK(error_of("") == "m.txt:0: empty manual");
  CHECK(error_of("tool\n") == "m.txt:1: expected 'NAME - summary'");
  CHECK(error_of("tool - x\nno usage\n") == "m.txt:2: expected 'Usage: tool ...'");
  CHECK(error_of("tool - x\nUsage: other\n") == "m.txt:2: the usage must start with 'tool'");
  CHECK(error_of("tool - x\nUsage: tool\nstray\n") == "m.txt:3: text before the first [SECTION]");
  CHECK(error_of("tool - x\nUsage: tool\n[A] hlep\nx\n") ==
        "m.txt:3: unknown section flag 'hlep' (only 'help')");
  CHECK(error_of("tool - x\nUsage: tool\n[A]\n[B]\nx\n") == "m.txt:4: section [A] is empty");
  CHECK(error_of("tool - x\nUsage: tool\n[A]\nx\n\n    orphan\n") ==
        "m.txt:6: an indented definition needs a term line above it");
  CHECK(error_of("tool - x\nUsage: tool\n[A]\nx\n[B]\n") == "m.txt:5: section [B] is empty");
  CHECK(error_of("tool - x\nUsage: tool\n") == "m.txt:2: no [SECTION]");
}

TEST_CASE("clidoc: a blank line ends a definition, the prose after it is a paragraph") {
  Result<clidoc::Manual> m = clidoc::parse(
      "tool - x\nUsage: tool\n\n[A] help\n--help\n    print help\n\nAfter.\nMore.\n", "m.txt");
  REQUIRE(m.ok());
  REQUIRE(m->sections[0].blocks.size() == 2);
  CHECK(m->sections[0].blocks[1].term.empty());
  CHECK(m->sections[0].blocks[1].lines == std::vector<std::string>{"After.", "More."});
  CHECK(clidoc::render_help(*m) ==
        "Usage: tool\n\nA:\n  --help             print help\n  After.\n  More.\n");
}
