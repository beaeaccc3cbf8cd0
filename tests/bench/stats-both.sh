#!/bin/sh
# Statistics and log queries at a few million rows on both stores, one command:
#   sh tests/bench/stats-both.sh [rows]        (default 3 000 000; needs a built tree in ./build)
# Runs bench_stats (SQLite, a temp file) and bench_stats_pg (a throwaway PostgreSQL server from
# tests/support/pg-server.sh, stopped afterwards).
set -eu
cd "$(dirname "$0")/../.."
rows=${1:-3000000}
cmake --build build --target bench_stats bench_stats_pg >/dev/null
build/tests/bench/bench_stats "$rows"
state=$(mktemp -d "${TMPDIR:-/tmp}/gemgate-bench-pg-XXXXXX")
trap 'sh tests/support/pg-server.sh stop "$state" >/dev/null; rm -rf "$state"' EXIT
sh tests/support/pg-server.sh start "$state" >/dev/null
base=$(cat "$state/url")
psql "${base}postgres" -qAt -c "CREATE DATABASE bench TEMPLATE template0"
build/tests/bench/bench_stats_pg "${base}bench" "$rows"
