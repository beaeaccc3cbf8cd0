// gemgate-clidoc: the build-time generator of `gemgate --help` and gemgate(1) from
// conf/cli/manual.txt (see clidoc.h).
//
//   gemgate-clidoc help-cpp MANUAL OUT.cpp   the --help text as conf::kUsageText (conf/cli/usage.h)
//   gemgate-clidoc man MANUAL OUT.1 VERSION  the man page
//   gemgate-clidoc help MANUAL               the --help text on stdout
//
// Exit status 1 with "FILE:LINE: message" when the manual is malformed, 2 on a wrong command line.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "conf/cli/clidoc.h"

namespace {

int usage() {
  std::fputs(
      "usage: gemgate-clidoc help-cpp MANUAL OUT.cpp | man MANUAL OUT.1 VERSION | help MANUAL\n",
      stderr);
  return 2;
}

// Writes `text` to `path` through a temporary file, so a failed run leaves no half-written output.
bool write_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gemgate;
  if (argc < 3) return usage();
  std::string mode = argv[1];
  std::string source = argv[2];
  std::ifstream in(source, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "gemgate-clidoc: cannot read %s\n", source.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  Result<clidoc::Manual> manual = clidoc::parse(text.str(), source);
  if (!manual.ok()) {
    std::fprintf(stderr, "%s\n", manual.error().message.c_str());
    return 1;
  }

  std::string out;
  std::string target;
  if (mode == "help" && argc == 3) {
    std::fputs(clidoc::render_help(*manual).c_str(), stdout);
    return 0;
  } else if (mode == "help-cpp" && argc == 4) {
    out = clidoc::render_cpp(clidoc::render_help(*manual), "gemgate::conf", "kUsageText");
    target = argv[3];
  } else if (mode == "man" && argc == 5) {
    out = clidoc::render_man(*manual, argv[4]);
    target = argv[3];
  } else {
    return usage();
  }
  if (!write_file(target, out)) {
    std::fprintf(stderr, "gemgate-clidoc: cannot write %s\n", target.c_str());
    return 1;
  }
  return 0;
}
