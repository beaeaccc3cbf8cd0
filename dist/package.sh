#!/bin/sh
# Builds gemgate's Debian packages: gemgate_VERSION_ARCH.deb (the service) and
# gemgate-dev_VERSION_ARCH.deb (translator and filter SDK). The one install step that the
# Dockerfile, the tests (package.deb) and a release use.
#
#   sh dist/package.sh [BUILD_DIR [OUT_DIR]]     (defaults: ./build-package and ./dist/out)
#
# BUILD_DIR is configured (Release, without tests) when it has no CMakeCache.txt yet; an existing
# tree (the test's, for one) is only brought up to date. Needs what conf/deps.sh installs for
# `gemgate_deps package` (the build packages, dpkg-dev and file). Jobs: $JOBS (default: nproc).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-package}
out=${2:-$src/dist/out}
jobs=${JOBS:-$(nproc)}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGEMGATE_TESTS=OFF
fi
cmake --build "$build" -j"$jobs"
mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd "$build" && cpack -G DEB -B "$out")
rm -rf "$out/_CPack_Packages"
ls "$out"/*.deb
