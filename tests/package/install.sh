#!/bin/sh
# `cmake --install` into a temporary prefix, and what an embedder does with the result:
#  - the layout: binary, man page, etc/gemgate/gemgate.yaml (identical to conf/gemgate.yaml),
#    the systemd unit (pointing at this prefix), the sysusers.d entry, headers, static
#    libraries, the CMake package and the pkg-config files;
#  - the installed binary validates the installed configuration;
#  - every installed header compiles on its own with only the installed include directory;
#  - examples/custom_filter and examples/embed_translator configure out of tree against the
#    prefix (find_package(gemgate)), build and run;
#  - a small program compiles and links with `pkg-config --cflags --libs` of each .pc file;
#  - a C program (C99, -pedantic -Werror) builds against the installed libgemgate.so with
#    pkg-config libgemgate and runs: versions, a translation, a pool pick and report;
#  - systemd-sysusers accepts the sysusers.d entry (into a scratch root).
#
#   sh tests/package/install.sh BUILD_DIR
#
# Uses ccache when installed. Jobs: $JOBS (default 2). KEEP=1 keeps the scratch directory.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
jobs=${JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/gemgate-install.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT INT TERM
prefix=$work/prefix
fail() { echo "install: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }
# Nothing may land outside the prefix (an absolute destination would escape --prefix).
if grep -- '-- Installing: ' "$work/install.log" | grep -v -- "-- Installing: $prefix/" | grep -q .; then
  grep -- '-- Installing: ' "$work/install.log" | grep -v -- "$prefix/"; fail "files installed outside the prefix"
fi

libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
for f in bin/gemgate share/man/man1/gemgate.1 etc/gemgate/gemgate.yaml lib/systemd/system/gemgate.service \
         lib/sysusers.d/gemgate.conf include/gemgate/core/filter.h include/gemgate/core/registry.h \
         include/gemgate/conf/yaml_loader.h include/gemgate/filters/openai/translate/translate.h \
         "$libdir/libgemgate_core.a" "$libdir/libgemgate_yaml.a" "$libdir/libgemgate_llhttp.a" \
         "$libdir/libgemgate_openai_translate.a" "$libdir/cmake/gemgate/gemgateConfig.cmake" \
         "$libdir/pkgconfig/gemgate-openai-translate.pc" "$libdir/pkgconfig/gemgate-filter-sdk.pc" \
         include/gemgate/gemgate.h "$libdir/libgemgate.so.1" "$libdir/libgemgate.so" \
         "$libdir/pkgconfig/libgemgate.pc" "$libdir/cmake/gemgate/gemgateCapiTargets.cmake"; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done
[ -x "$prefix/bin/gemgate" ] || fail "bin/gemgate is not executable"
cmp -s "$src/conf/gemgate.yaml" "$prefix/etc/gemgate/gemgate.yaml" || fail "etc/gemgate/gemgate.yaml differs from conf/gemgate.yaml"
# The translator's private detail/ headers and the HTTP server's are not part of the surface.
[ ! -e "$prefix/include/gemgate/filters/openai/translate/detail" ] || fail "detail/ headers installed"
[ ! -e "$prefix/include/gemgate/core/server" ] || fail "core/server headers installed"
grep -qx "ExecStart=$prefix/bin/gemgate --config $prefix/etc/gemgate/gemgate.yaml" \
  "$prefix/lib/systemd/system/gemgate.service" || fail "the unit does not run this prefix's binary and config"
echo "install: layout OK ($(find "$prefix" -type f | wc -l) files)"

"$prefix/bin/gemgate" --check-config --config "$prefix/etc/gemgate/gemgate.yaml" || fail "--check-config on the installed config"

# Each installed header on its own, with nothing but the installed include directory ($jobs at
# a time; xargs fails when any compile fails, and the compiler names the header).
(cd "$prefix/include/gemgate" && find . -name '*.h' | sed 's|^\./||' | sort) >"$work/headers.txt"
n=$(wc -l <"$work/headers.txt")
[ "$n" -gt 20 ] || fail "only $n installed headers"
# shellcheck disable=SC2016  # the inner script expands its own arguments
xargs -P "$jobs" -I{} sh -c 'printf "#include \"%s\"\n" "$1" |
  c++ -std=c++20 -fsyntax-only -I"$2" -x c++ - || { echo "install: $1 does not compile on its own"; exit 1; }' \
  sh {} "$prefix/include/gemgate" <"$work/headers.txt" || fail "an installed header does not compile on its own"
echo "install: $n installed headers compile on their own"

launcher=""
if command -v ccache >/dev/null 2>&1; then
  launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
  # Paths under the scratch directory (a new name each run) are hashed relative to it, so a
  # repeated run hits the cache.
  export CCACHE_BASEDIR="$work"
fi
for example in custom_filter embed_translator; do
  # shellcheck disable=SC2086  # $launcher is zero or two words
  if ! { cmake -S "$src/examples/$example" -B "$work/$example" -DCMAKE_BUILD_TYPE=Release \
           -DCMAKE_PREFIX_PATH="$prefix" $launcher >"$work/$example.log" 2>&1 &&
         cmake --build "$work/$example" -j"$jobs" >>"$work/$example.log" 2>&1; }; then
    cat "$work/$example.log"; fail "examples/$example does not build against the installed package"
  fi
  # It must have used the installed package, not a source tree.
  grep -q "gemgate_DIR:PATH=$prefix/" "$work/$example/CMakeCache.txt" || fail "$example did not find the installed gemgate"
done
out=$("$work/custom_filter/custom_filter_example" "$src/examples/custom_filter/chain.yaml")
echo "$out" | grep -q 'status 200, x-request-id: demo-' || fail "custom_filter_example printed: $out"
out=$(printf '%s' '{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}' |
  "$work/embed_translator/embed_translator" request -)
echo "$out" | grep -q '^POST /v1beta/models/gemini-2.5-flash:generateContent$' || fail "embed_translator printed: $out"
echo "$out" | grep -qF '"parts":[{"text":"Hi"}]' || fail "embed_translator printed: $out"
echo "install: both examples build out of tree against the prefix and run"

# pkg-config: a small program per .pc file, compiled and linked with nothing but its flags.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
cat >"$work/translate.cpp" <<'CPP'
#include <cstdio>
#include "filters/openai/translate/translate.h"
int main() {
  auto r = gemgate::openai::translate_chat_request(
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]})");
  std::puts(r.has_value() ? "translated" : "failed");
  return r.has_value() ? 0 : 1;
}
CPP
cat >"$work/sdk.cpp" <<'CPP'
#include <cstdio>
#include "conf/yaml_loader.h"
#include "core/registry.h"
int main() {
  gemgate::ConfigErrors errors;
  auto root = gemgate::conf::load_yaml("a: [1, 2]\n", "x.yaml", gemgate::conf::process_env, errors);
  gemgate::Registry registry;
  std::puts(root && errors.empty() ? "loaded" : "failed");
  return root && errors.empty() ? 0 : 1;
}
CPP
for pair in gemgate-openai-translate:translate gemgate-filter-sdk:sdk; do
  pc=${pair%%:*}
  prog=${pair#*:}
  # shellcheck disable=SC2046  # pkg-config prints words
  c++ -std=c++20 -o "$work/$prog" "$work/$prog.cpp" $(pkg-config --cflags --libs "$pc") || fail "does not build with pkg-config $pc"
  "$work/$prog" || fail "the program built with $pc failed"
done
echo "install: programs build with pkg-config gemgate-openai-translate and gemgate-filter-sdk"

# The C ABI: a C program against the installed header and shared library, nothing else.
cat >"$work/capi.c" <<'C'
#include <gemgate/gemgate.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  static const char body[] =
      "{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
  const char *keys[] = {"AIzaSyInstalledCheck_0000000000000000001"};
  gemgate_exchange *x = NULL;
  gemgate_pool *pool = NULL;
  gemgate_outcome outcome;
  int64_t id = 0;
  const char *key = NULL;
  char *answer = NULL;
  size_t len = 0;
  int status = 0;
  if (gemgate_abi_version() != GEMGATE_ABI_VERSION) return 1;
  if (gemgate_exchange_create(GEMGATE_FRONT_OPENAI_CHAT, &x) != GEMGATE_OK) return 2;
  if (gemgate_exchange_request(x, body, strlen(body)) != GEMGATE_OK) return 3;
  printf("POST %s\n", gemgate_exchange_upstream_path(x));
  if (gemgate_pool_create(keys, 1, NULL, &pool) != GEMGATE_OK) return 4;
  if (gemgate_pool_pick(pool, gemgate_exchange_model(x), NULL, 0, -1, &id, &key, NULL) != GEMGATE_OK)
    return 5;
  if (gemgate_pool_report(pool, id, gemgate_exchange_model(x), 429, NULL, 0, "{}", 2, -1, &outcome) !=
          GEMGATE_OK || outcome.kind != GEMGATE_OUTCOME_QUOTA)
    return 6;
  if (gemgate_exchange_response(x, 429, "{}", 2, &status, &answer, &len) != GEMGATE_OK) return 7;
  printf("client %d %s\n", status, answer);
  gemgate_free(answer);
  gemgate_pool_destroy(pool);
  gemgate_exchange_destroy(x);
  return status == 429 ? 0 : 8;
}
C
# shellcheck disable=SC2046  # pkg-config prints words
cc -std=c99 -Wall -Wextra -pedantic -Werror -o "$work/capi" "$work/capi.c" $(pkg-config --cflags --libs libgemgate) ||
  fail "a C program does not build with pkg-config libgemgate"
out=$(LD_LIBRARY_PATH="$prefix/$libdir" "$work/capi") || fail "the C program against libgemgate failed: $out"
echo "$out" | grep -q '^POST /v1beta/models/gemini-2.5-flash:generateContent$' || fail "the C program printed: $out"
echo "$out" | grep -q '^client 429 {"error"' || fail "the C program printed: $out"
# It ran against the installed library, not the build tree's.
LD_LIBRARY_PATH="$prefix/$libdir" ldd "$work/capi" | grep -q "$prefix/$libdir/libgemgate.so.1" ||
  fail "the C program did not load the installed libgemgate.so.1"
echo "install: a C program builds with pkg-config libgemgate and runs against the installed libgemgate.so.1"
# The same program through CMake: find_package(gemgate COMPONENTS capi) → gemgate::gemgate.
mkdir -p "$work/capi_cmake"
cp "$work/capi.c" "$work/capi_cmake/capi.c"
cat >"$work/capi_cmake/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(capi_check LANGUAGES C)
find_package(gemgate REQUIRED COMPONENTS capi)
add_executable(capi_check capi.c)
target_link_libraries(capi_check PRIVATE gemgate::gemgate)
CMAKE
# shellcheck disable=SC2086  # $launcher is zero or two words
if ! { cmake -S "$work/capi_cmake" -B "$work/capi_cmake/build" -DCMAKE_PREFIX_PATH="$prefix" $launcher \
         >"$work/capi_cmake.log" 2>&1 && cmake --build "$work/capi_cmake/build" >>"$work/capi_cmake.log" 2>&1; }; then
  cat "$work/capi_cmake.log"; fail "a C program does not build with find_package(gemgate COMPONENTS capi)"
fi
"$work/capi_cmake/build/capi_check" >/dev/null || fail "the C program built with gemgate::gemgate failed"
echo "install: the same program builds with find_package(gemgate COMPONENTS capi) and gemgate::gemgate"

if command -v systemd-sysusers >/dev/null 2>&1; then
  mkdir -p "$work/sysroot/etc"
  systemd-sysusers --root="$work/sysroot" "$prefix/lib/sysusers.d/gemgate.conf" || fail "systemd-sysusers refused the entry"
  grep -q '^gemgate:.*:/var/lib/gemgate:/usr/sbin/nologin$' "$work/sysroot/etc/passwd" || fail "sysusers made no user gemgate"
  echo "install: systemd-sysusers creates the user gemgate from lib/sysusers.d/gemgate.conf"
else
  echo "install: systemd-sysusers not installed; the sysusers.d entry was not checked"
fi
echo "install: OK"
