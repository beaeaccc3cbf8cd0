#include "conf/cli/clidoc.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace gemgate::clidoc {
namespace {

// Definitions start this far right of the entry's indent in --help, unless a term is wider.
constexpr size_t kHelpIndent = 2;
constexpr size_t kHelpTermColumn = 19;

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

Error error_at(std::string_view file, size_t line, const std::string& message) {
  return Error::invalid(std::string(file) + ":" + std::to_string(line) + ": " + message);
}

// "[TITLE]" or "[TITLE] help" → the section; false when the line is not a section header.
Result<bool> parse_header(std::string_view line, Section* section) {
  if (line.empty() || line.front() != '[') return false;
  size_t close = line.find(']');
  if (close == std::string_view::npos || close == 1) return Error::invalid("bad section header");
  section->title = std::string(line.substr(1, close - 1));
  std::string_view flag = trim(line.substr(close + 1));
  if (flag == "help") {
    section->in_help = true;
  } else if (!flag.empty()) {
    return Error::invalid("unknown section flag '" + std::string(flag) + "' (only 'help')");
  }
  return true;
}

// "OPTIONS" → "Options", "EXIT STATUS" → "Exit status".
std::string help_title(const std::string& title) {
  std::string out = title;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = i == 0 ? static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])))
                    : static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

void render_help_entries(const Section& section, std::ostringstream& out) {
  out << help_title(section.title) << ":\n";
  for (const Block& b : section.blocks) {
    if (b.term.empty()) {
      for (const std::string& line : b.lines) out << std::string(kHelpIndent, ' ') << line << "\n";
      continue;
    }
    std::string head = std::string(kHelpIndent, ' ') + b.term;
    std::string pad(kHelpIndent + kHelpTermColumn, ' ');
    size_t first = 0;
    if (head.size() < pad.size()) {
      out << head << std::string(pad.size() - head.size(), ' ') << b.lines[0] << "\n";
      first = 1;
    } else {
      out << head << "\n";
    }
    for (size_t i = first; i < b.lines.size(); ++i) out << pad << b.lines[i] << "\n";
  }
}

// Escapes text for roff: backslashes, hyphens (so options stay searchable ASCII '-'), and a
// leading '.' or '\'' that would start a request.
std::string roff_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

// A term for .TP: bold; an option's arguments ("--config FILE") italic.
std::string roff_term(std::string_view term) {
  size_t space = term.starts_with('-') ? term.find(' ') : std::string_view::npos;
  std::string out = "\\fB" + roff_escape(term.substr(0, space)) + "\\fR";
  if (space != std::string_view::npos) {
    out += " \\fI" + roff_escape(trim(term.substr(space + 1))) + "\\fR";
  }
  return out;
}

// The synopsis after the command name: option words bold, upper-case arguments italic.
std::string roff_synopsis(std::string_view rest) {
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    bool upper =
        std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isupper(c); }) &&
        std::none_of(word.begin(), word.end(), [](unsigned char c) { return std::islower(c); });
    if (word.front() == '-') {
      out += "\\fB" + roff_escape(word) + "\\fR";
    } else if (upper) {
      out += "\\fI" + roff_escape(word) + "\\fR";
    } else {
      out += roff_escape(word);
    }
    word.clear();
  };
  for (char c : rest) {
    if (c == '[' || c == ']' || c == ' ' || c == '|') {
      flush();
      out += c;
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<Manual> parse(std::string_view text, std::string_view file) {
  Manual manual;
  std::vector<std::string_view> lines = split_lines(text);
  size_t i = 0;
  auto skip_comments = [&] {
    while (i < lines.size() && (lines[i].starts_with('#') || is_blank(lines[i]))) ++i;
  };
  skip_comments();
  if (i >= lines.size()) return error_at(file, i, "empty manual");
  size_t dash = lines[i].find(" - ");
  if (dash == std::string_view::npos) return error_at(file, i + 1, "expected 'NAME - summary'");
  manual.name = std::string(trim(lines[i].substr(0, dash)));
  manual.summary = std::string(trim(lines[i].substr(dash + 3)));
  ++i;
  skip_comments();
  constexpr std::string_view kUsage = "Usage: ";
  if (i >= lines.size() || !lines[i].starts_with(kUsage)) {
    return error_at(file, i + 1, "expected 'Usage: " + manual.name + " ...'");
  }
  manual.synopsis = std::string(trim(lines[i].substr(kUsage.size())));
  if (!manual.synopsis.starts_with(manual.name)) {
    return error_at(file, i + 1, "the usage must start with '" + manual.name + "'");
  }
  ++i;

  Block* open = nullptr;  // the block that the next line continues, if any
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    size_t number = i + 1;
    if (line.starts_with('#')) continue;
    if (is_blank(line)) {
      open = nullptr;
      continue;
    }
    Section header;
    Result<bool> is_header = parse_header(line, &header);
    if (!is_header.ok()) return error_at(file, number, is_header.error().message);
    if (is_header.value()) {
      if (!manual.sections.empty() && manual.sections.back().blocks.empty()) {
        return error_at(file, number, "section [" + manual.sections.back().title + "] is empty");
      }
      manual.sections.push_back(std::move(header));
      open = nullptr;
      continue;
    }
    if (manual.sections.empty()) return error_at(file, number, "text before the first [SECTION]");
    Section& section = manual.sections.back();
    bool indented = std::isspace(static_cast<unsigned char>(line.front()));
    bool next_indented = i + 1 < lines.size() && !lines[i + 1].empty() && !is_blank(lines[i + 1]) &&
                         std::isspace(static_cast<unsigned char>(lines[i + 1].front()));
    if (indented) {
      if (!open || open->term.empty()) {
        return error_at(file, number, "an indented definition needs a term line above it");
      }
      open->lines.emplace_back(trim(line));
    } else if (next_indented) {
      section.blocks.push_back(Block{std::string(trim(line)), {}});
      open = &section.blocks.back();
    } else if (open && open->term.empty()) {
      open->lines.emplace_back(trim(line));
    } else {
      section.blocks.push_back(Block{"", {std::string(trim(line))}});
      open = &section.blocks.back();
    }
  }
  if (manual.sections.empty()) return error_at(file, lines.size(), "no [SECTION]");
  if (manual.sections.back().blocks.empty()) {
    return error_at(file, lines.size(), "section [" + manual.sections.back().title + "] is empty");
  }
  return manual;
}

std::string render_help(const Manual& manual) {
  std::ostringstream out;
  out << "Usage: " << manual.synopsis << "\n";
  for (const Section& section : manual.sections) {
    if (!section.in_help) continue;
    bool has_terms = std::any_of(section.blocks.begin(), section.blocks.end(),
                                 [](const Block& b) { return !b.term.empty(); });
    out << "\n";
    if (has_terms) {
      render_help_entries(section, out);
      continue;
    }
    for (size_t b = 0; b < section.blocks.size(); ++b) {
      if (b > 0) out << "\n";
      for (const std::string& line : section.blocks[b].lines) out << line << "\n";
    }
  }
  return out.str();
}

std::string render_man(const Manual& manual, std::string_view version) {
  std::ostringstream out;
  out << ".\\\" Generated from conf/cli/manual.txt by gemgate-clidoc; edit that file instead.\n";
  out << ".TH " << upper(manual.name) << " 1 \"\" \"" << roff_escape(manual.name) << " "
      << roff_escape(version) << "\" \"User Commands\"\n";
  out << ".SH NAME\n" << roff_escape(manual.name) << " \\- " << roff_escape(manual.summary) << "\n";
  std::string_view rest = std::string_view(manual.synopsis).substr(manual.name.size());
  out << ".SH SYNOPSIS\n.B " << roff_escape(manual.name) << "\n"
      << roff_synopsis(trim(rest)) << "\n";
  for (const Section& section : manual.sections) {
    out << ".SH " << roff_escape(upper(section.title)) << "\n";
    for (const Block& b : section.blocks) {
      if (b.term.empty()) {
        out << ".PP\n";
      } else {
        out << ".TP\n" << roff_term(b.term) << "\n";
      }
      for (const std::string& line : b.lines) out << roff_escape(line) << "\n";
    }
  }
  return out.str();
}

std::string render_cpp(std::string_view text, std::string_view ns, std::string_view name) {
  std::string delimiter = "clidoc";
  while (text.find(")" + delimiter + "\"") != std::string_view::npos) delimiter += "_";
  std::ostringstream out;
  out << "// Generated from conf/cli/manual.txt by gemgate-clidoc; edit that file instead.\n"
      << "namespace " << ns << " {\n"
      << "extern const char* const " << name << ";\n"
      << "const char* const " << name << " = R\"" << delimiter << "(" << text << ")" << delimiter
      << "\";\n"
      << "}  // namespace " << ns << "\n";
  return out.str();
}

}  // namespace gemgate::clidoc
