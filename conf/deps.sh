# Installs what gemgate needs from Debian's archive, only when something is missing, so repeated
# runs cost a dpkg query. Sourced by conf/run.sh, tests/run.sh and the Dockerfile; call
# `gemgate_deps build`, `gemgate_deps package` (build + what cpack -G DEB needs) or
# `gemgate_deps test` (package + the test tools). Runs as root (or through sudo when available).

gemgate_missing() {
  missing=""
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing="$missing $pkg"
    fi
  done
  echo "$missing"
}

gemgate_deps() {
  pkgs="cmake g++ make pkg-config libuv1-dev node-llhttp libcurl4-openssl-dev rapidjson-dev \
libsqlitecpp-dev libsqlite3-dev libyaml-cpp-dev doctest-dev libssl-dev libpq-dev"
  # cpack's DEB generator: dpkg-shlibdeps (dpkg-dev) derives the dependencies, with file.
  case "${1:-build}" in
  package | test) pkgs="$pkgs dpkg-dev file" ;;
  esac
  if [ "${1:-build}" = "test" ]; then
    # groff-base renders the man page, systemd brings systemd-analyze and systemd-sysusers;
    # prometheus: its promtool checks the /metrics exposition (tests/integration/observe-metrics).
    # postgresql: the throwaway server the PostgreSQL test runs start (tests/support/pg-server.sh).
    # openssl: the certificate of the TLS + HTTP/2 stand-in upstream (tests/support/fake-gemini-tls.mjs).
    pkgs="$pkgs sqlite3 openssl ca-certificates chromium fonts-wqy-microhei groff-base systemd prometheus \
postgresql"
    # The embedding tests (tests/embed): the Lua module's headers, HAProxy built with Lua, Lua
    # itself, Debian's python3 for the ctypes example, binutils for nm/objdump.
    pkgs="$pkgs liblua5.3-dev lua5.3 haproxy python3 binutils"
    # ccache: build.deletable_filter builds gemgate again from a copy of the tree; with the
    # main build's objects in the cache that takes seconds, not a second full build beside the
    # tests (gemgate_build below uses ccache whenever it is installed).
    pkgs="$pkgs ccache"
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
  fi
  missing=$(gemgate_missing $pkgs)
  [ -z "$missing" ] && return 0
  echo "gemgate: installing$missing" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Configures (once) and builds the Release tree in ./build, through ccache when it is installed.
# CCACHE_BASEDIR is the source tree, as build.deletable_filter sets it for its copy inside
# build/, so that both builds name their files alike and the copy's objects hit the cache.
gemgate_build() {
  if [ ! -f build/CMakeCache.txt ]; then
    launcher=""
    if command -v ccache >/dev/null 2>&1; then
      launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
    fi
    # shellcheck disable=SC2086  # $launcher is zero or two words
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $launcher >/dev/null
  fi
  CCACHE_BASEDIR=$(pwd) cmake --build build -j"$(nproc)" "$@"
}
