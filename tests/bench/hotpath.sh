#!/bin/sh
# hotpath.sh: the per-request cost of one or more gemgate binaries side by side, rows
# interleaved, on their own ports (it runs beside compare.sh without a clash). For each binary
# and workload: CPU µs per request (user + system of all threads from /proc, like compare.sh) and,
# with ALLOCS=1, libc malloc calls per request (a perf uprobe on malloc; root only).
#
#   sh tests/bench/hotpath.sh [seconds=5] [rounds=2] BIN...   (default BIN: build/conf/gemgate)
# Workloads (WORKLOADS, default "plain gateway sse gwsse"): plain / sse = the upstream filter
# alone (/plain/), JSON and a 20-event SSE stream; gateway / gwsse = the built-in gemini chain;
# nostore = a copy of the gemini chain without the stored request log (/nostore/); openai /
# openai_stream = POST /v1/chat/completions through the built-in openai chain, stream false / true.
# PERF_DIR=DIR records a profile of each row into DIR/WORKLOAD-N.perf (perf record -g; with
# PERF=dwarf, --call-graph dwarf: inlined frames and code without frame pointers, larger files),
# and with ALLOCS=1 the callers of malloc into DIR/WORKLOAD-N.malloc.perf (--call-graph dwarf)
# instead of counting them.
# Ports: BENCH_PORT_BASE (29711) is the upstream, +1 the slow upstream, +19.. one per binary. A
# port already listened on stops the script before it starts anything (two runs at once would
# otherwise measure each other's processes).
# WORKLOADS may add "slow": SLOW_STREAMS (10000) concurrent slow streams through the gateway,
# SLOW_CHUNKS (50) events each, 20 ms apart: completed, peak RSS, CPU µs per chunk.
#   WORKLOADS="plain gateway sse gwsse" ALLOCS=1 sh tests/bench/hotpath.sh 5 2 /tmp/a /tmp/b
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=${1:-5}
ROUNDS=${2:-2}
shift 2 2>/dev/null || shift $#
BINS=""
# Each binary as an absolute path: the gateways run from their own work directories.
for b in ${*:-$ROOT/build/conf/gemgate}; do BINS="$BINS $(realpath "$b")"; done
BINS=${BINS# }
WORKLOADS=${WORKLOADS:-plain gateway sse gwsse}
CONNS=${CONNS:-32}
BASE_PORT=${BENCH_PORT_BASE:-29711}
UP=$BASE_PORT SLOWUP=$((BASE_PORT + 1)) GG0=$((BASE_PORT + 19))
. tests/bench/ports.sh
NBINS=$(echo "$BINS" | wc -w)
# shellcheck disable=SC2046
need_free_ports hotpath.sh "$UP" "$SLOWUP" $(seq "$GG0" $((GG0 + NBINS - 1)))
SLOW_STREAMS=${SLOW_STREAMS:-10000}
SLOW_CHUNKS=${SLOW_CHUNKS:-50}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SLOW_MAX=$((($(ulimit -n) - 500) / 2))
[ "$SLOW_STREAMS" -gt "$SLOW_MAX" ] && SLOW_STREAMS=$SLOW_MAX
TOKEN=bench-client-token-0001
TICK=$(getconf CLK_TCK)
LIBC=$(ldd "$(echo "$BINS" | awk '{print $1}')" | awk '/libc.so/ {print $3}')

WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The canned upstream: the same nginx and answers as compare.sh.
. tests/bench/canned-upstream.sh
write_canned_upstream "$WORK/up" "$UP"
nginx -c "$WORK/up/nginx.conf" -p "$WORK/up" &
PIDS="$PIDS $!"

node tests/bench/slow-streams.mjs upstream $SLOWUP 20 "$SLOW_CHUNKS" &
PIDS="$PIDS $!"

# The built-in configuration at 1 worker, plus /plain/ (the upstream filter alone) and /slow/
# (the full gateway against the slow-stream upstream).
# /nostore/ is the built-in gemini chain copied filter for filter (first pass), its log's store off.
awk -v slow="http://127.0.0.1:$SLOWUP" -v maxc="$SLOW_MAX" '
  NR == FNR {
    if ($0 ~ /^  gemini:/) { in_gemini = 1; next }
    if (in_gemini && ($0 ~ /^  [A-Za-z_]/ || $0 ~ /^[A-Za-z_]/)) in_gemini = 0
    if (in_gemini && $0 !~ /^ *(#.*)?$/) chain[++chain_lines] = $0
    next
  }
  /^workers:/ { print "workers: 1"; next }
  /^  max_connections:/ { print "  max_connections: " maxc; next }
  /^  health:/ {
    print "  plain:\n    filters:\n      - upstream: {base_url: *google}\n"
    print "  nostore:"
    for (i = 1; i <= chain_lines; i++) { line = chain[i]; sub(/- log: \{\}/, "- log: {store: false}", line); print line }
    print ""
    printf "  slow:\n    errors: google\n    filters:\n      - log: {store: true}\n"
    printf "      - auth:\n          sources: [query, goog_header, bearer]\n      - models: {}\n"
    printf "      - retry: {}\n      - keys: {}\n      - upstream:\n          base_url: \"%s\"\n\n", slow
  }
  /^  - \{ path: \/healthz/ {
    print; print "  - { prefix: /plain/, chain: plain, strip: /plain }"
    print "  - { prefix: /slow/, chain: slow, strip: /slow }"
    print "  - { prefix: /nostore/, chain: nostore, strip: /nostore }"; next
  }
  { print }' conf/gemgate.yaml conf/gemgate.yaml > "$WORK/gemgate.yaml"
grep -q 'log: {store: false}' "$WORK/gemgate.yaml" || { echo "hotpath.sh: the built-in gemini chain has no '- log: {}' line" >&2; exit 1; }

n=0
for bin in $BINS; do
  port=$((GG0 + n))
  mkdir -p "$WORK/gg$n"
  (cd "$WORK/gg$n" && API_KEYS="AIzaBenchKey00000000000000000000000001" ALLOWED_TOKENS="$TOKEN" \
    GOOGLE_API_HOST="http://127.0.0.1:$UP" exec "$bin" --config "$WORK/gemgate.yaml" \
    --listen 127.0.0.1:$port 2>"$WORK/gg$n/log") &
  eval "PID$n=$!"
  PIDS="$PIDS $!"
  n=$((n + 1))
done
sleep 2
n=0
for bin in $BINS; do # a gateway that could not bind (or start) is gone by now
  eval "pid=\$PID$n"
  kill -0 "$pid" 2>/dev/null || { echo "hotpath.sh: $bin on port $((GG0 + n)) exited:" >&2; cat "$WORK/gg$n/log" >&2; exit 1; }
  n=$((n + 1))
done

cat > "$WORK/native.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
for stream in false true; do
  cat > "$WORK/openai-$stream.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gemini-2.5-flash","stream":$stream,"messages":[{"role":"user","content":"Hello"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
done
JSON="/v1beta/models/gemini-2.5-flash:generateContent?key=$TOKEN"
SSEP="/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=$TOKEN"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

url_of() { # WORKLOAD PORT
  case $1 in
    plain) echo "http://127.0.0.1:$2/plain$JSON" ;;
    gateway) echo "http://127.0.0.1:$2$JSON" ;;
    sse) echo "http://127.0.0.1:$2/plain$SSEP" ;;
    gwsse) echo "http://127.0.0.1:$2$SSEP" ;;
    nostore) echo "http://127.0.0.1:$2/nostore$JSON" ;;
    openai | openai_stream) echo "http://127.0.0.1:$2/v1/chat/completions" ;;
    *) echo "hotpath.sh: unknown workload $1" >&2; return 1 ;;
  esac
}

lua_of() { # WORKLOAD: the wrk script of its requests
  case $1 in
    openai) echo "$WORK/openai-false.lua" ;;
    openai_stream) echo "$WORK/openai-true.lua" ;;
    *) echo "$WORK/native.lua" ;;
  esac
}

printf '%-6s %-13s %-40s %9s %10s %s\n' round workload binary req/s "CPU us/req" "${ALLOCS:+mallocs/req}"
r=1
while [ $r -le "$ROUNDS" ]; do
  for w in $WORKLOADS; do
    n=0
    if [ "$w" = slow ]; then
      # SLOW_STREAMS concurrent streams of SLOW_CHUNKS events 20 ms apart through the gateway:
      # completed streams, peak RSS, CPU per forwarded chunk.
      for bin in $BINS; do
        eval "pid=\$PID$n"
        before=$(cpu_ticks "$pid")
        node tests/bench/slow-streams.mjs client "127.0.0.1:$((GG0 + n))" "/slow$SSEP" \
          "$SLOW_STREAMS" "$SLOW_CHUNKS" > "$WORK/slow.out" &
        client=$!
        peak=0
        while kill -0 $client 2>/dev/null; do
          rss=$(rss_kib "$pid")
          [ "$rss" -gt "$peak" ] && peak=$rss
          sleep 0.5
        done
        after=$(cpu_ticks "$pid")
        res=$(cat "$WORK/slow.out")
        [ -n "${VERBOSE:-}" ] && echo "$res"
        done_=$(echo "$res" | sed 's/.*"completed":\([0-9]*\).*/\1/')
        chunks=$(echo "$res" | sed 's/.*"chunks":\([0-9]*\).*/\1/')
        us=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$chunks" 'BEGIN {printf "%.2f", n ? t * 1e6 / hz / n : 0}')
        printf '%-6s %-13s %-40s %s/%s streams, peak RSS %d MiB, %s us/chunk\n' "$r" slow "$bin" \
          "$done_" "$SLOW_STREAMS" $((peak / 1024)) "$us"
        n=$((n + 1))
      done
      continue
    fi
    for bin in $BINS; do
      eval "pid=\$PID$n"
      url=$(url_of "$w" $((GG0 + n)))
      lua=$(lua_of "$w")
      wrk -t1 -c"$CONNS" -d1s -s "$lua" "$url" >/dev/null
      before=$(cpu_ticks "$pid")
      if [ -n "${PERF_DIR:-}" ]; then
        graph=-g
        [ "${PERF:-}" = dwarf ] && graph="--call-graph dwarf"
        # shellcheck disable=SC2086
        perf record -q -F 999 $graph -p "$pid" -o "$PERF_DIR/$w-$n.perf" -- sleep "$DURATION" 2>/dev/null &
        perf_pid=$!
      fi
      out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$lua" "$url")
      [ -n "${PERF_DIR:-}" ] && wait "$perf_pid"
      after=$(cpu_ticks "$pid")
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      bad=$(echo "$out" | awk '/Non-2xx/ {n += $NF} END {print n + 0}')
      rps=$((reqs / DURATION))
      us=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$reqs" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
      allocs=""
      if [ "${ALLOCS:-0}" = 1 ]; then
        perf probe -q -x "$LIBC" malloc 2>/dev/null || true
        if [ -n "${PERF_DIR:-}" ]; then
          perf record -q -e probe_libc:malloc --call-graph dwarf,16384 -p "$pid" \
            -o "$PERF_DIR/$w-$n.malloc.perf" -- sleep 1 2>/dev/null &
        else
          perf stat -x, -e probe_libc:malloc -p "$pid" -o "$WORK/stat" -- sleep 3 &
        fi
        sp=$!
        sleep 0.5  # the count spans the whole wrk run (an idle gateway hardly allocates)
        out=$(wrk -t1 -c8 -d2s -s "$lua" "$url")
        wait $sp || true
        reqs=$(echo "$out" | awk '/requests in/ {print $1}')
        calls=$(awk -F, '/probe_libc:malloc/ {print $1}' "$WORK/stat" 2>/dev/null || true)
        allocs=$(awk -v c="${calls:-0}" -v n="$reqs" 'BEGIN {printf "%.1f", c / n}')
      fi
      printf '%-6s %-13s %-40s %9d %10s %s%s\n' "$r" "$w" "$bin" "$rps" "$us" "$allocs" \
        "$([ "$bad" != 0 ] && echo " errors=$bad")"
      n=$((n + 1))
    done
  done
  r=$((r + 1))
done
