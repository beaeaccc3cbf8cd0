// The `gemgate --help` text, generated at build time from conf/cli/manual.txt (which also makes
// the man page gemgate(1), so the two agree). Edit manual.txt, not the generated source.
#pragma once

namespace gemgate::conf {

// "Usage: gemgate ..." followed by the sections of manual.txt marked `help`; ends with '\n'.
extern const char* const kUsageText;

}  // namespace gemgate::conf
