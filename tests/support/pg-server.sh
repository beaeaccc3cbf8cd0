#!/bin/sh
# A throwaway PostgreSQL server for the test run (no mock: Debian's `postgresql` package).
#
#   sh tests/support/pg-server.sh start <state-dir>   initdb + start; writes <state-dir>/url
#   sh tests/support/pg-server.sh restart <state-dir> stop and start again (same port and data)
#   sh tests/support/pg-server.sh stop  <state-dir>   stop, delete everything, check nothing is left
#
# The server's data lives in a fresh temporary directory (mktemp -d), listens on 127.0.0.1 on a
# free port (and on a Unix socket in that directory only) and runs as an UNPRIVILEGED user:
# postgres refuses to run as root, so under root (CI) it runs as the `postgres` user the
# package creates, or `nobody`, through setpriv/runuser. The test role `gemgate_test` logs in
# with a password (scram-sha-256, also on the socket), so the password paths are exercised.
# <state-dir>/url holds `postgresql://gemgate_test:<password>@127.0.0.1:<port>/`: append a
# database name. Each test creates its own database, so suites stay independent and parallel.
# CTest runs `start` and `stop` as the FIXTURES_SETUP / FIXTURES_CLEANUP of fixture `postgres`
# (tests/CMakeLists.txt); `stop` runs even when tests failed.
set -eu

cmd=${1:?usage: pg-server.sh start|restart|stop <state-dir>}
state=${2:?usage: pg-server.sh start|restart|stop <state-dir>}
bindir=${GEMGATE_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bindir/postgres" ] || { echo "pg-server: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

# Runs "$@" as the server's user (only root needs to switch).
as_server_user() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v setpriv >/dev/null 2>&1; then
    setpriv --reuid="$server_user" --regid="$(id -g "$server_user")" --init-groups -- "$@"
  else
    runuser -u "$server_user" -- "$@"
  fi
}

server_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then server_user=postgres; else server_user=nobody; fi
fi

# True while process $1 runs (a zombie waiting for its reaper counts as gone).
alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  state_letter=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null || echo Z)
  [ "$state_letter" != Z ]
}

stop_server() {
  [ -f "$state/root" ] || return 0
  root=$(cat "$state/root")
  if [ -f "$root/data/postmaster.pid" ]; then
    as_server_user "$bindir/pg_ctl" -D "$root/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  pid=$(cat "$state/pid" 2>/dev/null || true)
  waited=0
  while alive "$pid" && [ "$waited" -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -rf "$root"
  rm -f "$state/root" "$state/url" "$state/pid"
  # Nothing may be left behind: no process of this server, no directory.
  if alive "$pid"; then
    echo "pg-server: server process $pid is still running" >&2
    return 1
  fi
  if [ -e "$root" ]; then
    echo "pg-server: $root was not removed" >&2
    return 1
  fi
}

case "$cmd" in
start)
  mkdir -p "$state"
  stop_server  # a leftover of an interrupted run
  root=$(mktemp -d "${TMPDIR:-/tmp}/gemgate-pg-XXXXXX")
  echo "$root" >"$state/root"
  chmod 700 "$root"
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$root/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R "$server_user" "$root"
  as_server_user "$bindir/initdb" -D "$root/data" -U gemgate_test --pwfile="$root/pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 ||
    { cat "$root/initdb.log" >&2; exit 1; }
  rm -f "$root/pwfile"
  tries=0
  while :; do
    # A free port: the kernel picks one, then postgres binds it (retried if someone took it).
    port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    if as_server_user "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
      -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 5 ]; then
      cat "$root/server.log" >&2
      exit 1
    fi
  done
  head -n 1 "$root/data/postmaster.pid" >"$state/pid"
  printf 'postgresql://gemgate_test:%s@127.0.0.1:%s/\n' "$password" "$port" >"$state/url"
  chmod 600 "$state/url"
  echo "pg-server: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port as $server_user, data in $root"
  ;;
restart)
  root=$(cat "$state/root")
  as_server_user "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -m fast -w -t 60 restart >/dev/null
  head -n 1 "$root/data/postmaster.pid" >"$state/pid"
  ;;
stop)
  stop_server
  echo "pg-server: stopped"
  ;;
*)
  echo "usage: pg-server.sh start|restart|stop <state-dir>" >&2
  exit 2
  ;;
esac
