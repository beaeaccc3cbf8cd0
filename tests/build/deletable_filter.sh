#!/bin/sh
# Proves that a filter can be deleted by deleting its folder and its one line in
# filters/builtin.cpp (its GEMGATE_BUILTIN_FILTER entry), and nothing else: copies the tracked
# tree (git ls-files) to a scratch directory, removes filters/retry and the retry line of
# builtin.cpp, configures, and builds the `gemgate` target. Fails when any step fails, when not
# exactly one line named the filter, or when the result still mentions the retry filter.
#
#   sh tests/build/deletable_filter.sh [WORKDIR]
#
# WORKDIR (default: $TMPDIR or /tmp) receives a fresh scratch directory, removed afterwards
# (set KEEP=1 to keep it). CTest passes one inside the build tree: with ccache's base_dir set
# above both trees, the copy's objects then hit the cache of the main build, so the check takes
# seconds instead of a full build. Uses ccache when it is installed. Exit 77 (skipped) when the
# source is not a git checkout. Jobs: $JOBS (default 2).
set -eu

FILTER=retry
src=$(cd "$(dirname "$0")/../.." && pwd)
work_root=${1:-${TMPDIR:-/tmp}}
jobs=${JOBS:-2}

if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  echo "deletable_filter: $src is not a git checkout; skipped"
  exit 77
fi

mkdir -p "$work_root"
work=$(mktemp -d "$work_root/deletable-filter.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT INT TERM
tree=$work/src

# The tracked files as they are in the work tree (uncommitted edits included; files deleted but
# not yet committed are left out).
mkdir -p "$tree"
(cd "$src" && git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
  tar --null -T - -cf -) | tar -C "$tree" -xf -

# Delete the filter: its folder, and the one line of builtin.cpp that names it.
[ -d "$tree/filters/$FILTER" ] || { echo "deletable_filter: no filters/$FILTER to delete"; exit 1; }
rm -rf "$tree/filters/$FILTER"
builtin=$tree/filters/builtin.cpp
before=$(wc -l <"$builtin")
grep -v -e "^GEMGATE_BUILTIN_FILTER($FILTER," "$builtin" >"$builtin.new" || true
mv "$builtin.new" "$builtin"
removed=$((before - $(wc -l <"$builtin")))
echo "deletable_filter: removed filters/$FILTER and $removed line(s) of filters/builtin.cpp"
[ "$removed" -eq 1 ] || { echo "deletable_filter: builtin.cpp has $removed lines for $FILTER, not one"; exit 1; }
if grep -q -e "$FILTER" "$builtin"; then
  echo "deletable_filter: builtin.cpp still names $FILTER elsewhere"; exit 1
fi

launcher=""
if command -v ccache >/dev/null 2>&1; then
  launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
fi
# shellcheck disable=SC2086  # $launcher is zero or two words
cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" $launcher >"$work/configure.log" 2>&1 || {
  cat "$work/configure.log"; echo "deletable_filter: configure failed without filters/$FILTER"; exit 1; }
cmake --build "$tree/build" --target gemgate -j"$jobs" >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log"; echo "deletable_filter: build of gemgate failed without filters/$FILTER"; exit 1; }

# The filter is really gone: no object of it was built, and the binary does not register it.
if find "$tree/build" -name "*${FILTER}_filter*.o" | grep -q .; then
  echo "deletable_filter: an object of filters/$FILTER was still built"; exit 1
fi
if grep -q "register_${FILTER}_filter" "$tree/build/conf/gemgate"; then
  echo "deletable_filter: the binary still contains register_${FILTER}_filter"; exit 1
fi
echo "deletable_filter: gemgate builds without filters/$FILTER"
