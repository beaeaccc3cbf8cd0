#!/bin/sh
# hotpath.sh: the per-request cost of one or more gemgate binaries side by side, rows
# interleaved, on their own ports (it runs beside compare.sh without a clash). For each binary
# and workload: CPU µs per request (user + system of all threads from /proc, like compare.sh) and,
# with ALLOCS=1, libc malloc calls per request (a perf uprobe on malloc; root only).
#
#   sh tests/bench/hotpath.sh [seconds=5] [rounds=2] BIN...   (default BIN: build/conf/gemgate)
# PERF_DIR=DIR records a profile of each row into DIR/WORKLOAD-N.perf (perf record -g), and with
# ALLOCS=1 the callers of malloc into DIR/WORKLOAD-N.malloc.perf (--call-graph dwarf) instead of
# counting them.
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
UP=29711 SLOWUP=29712 GG0=29730
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
awk -v slow="http://127.0.0.1:$SLOWUP" -v maxc="$SLOW_MAX" '/^workers:/ { print "workers: 1"; next }
  /^  max_connections:/ { print "  max_connections: " maxc; next }
  /^  health:/ {
    print "  plain:\n    filters:\n      - upstream: {base_url: *google}\n"
    printf "  slow:\n    errors: google\n    filters:\n      - log: {store: true}\n"
    printf "      - auth:\n          sources: [query, goog_header, bearer]\n      - models: {}\n"
    printf "      - retry: {}\n      - keys: {}\n      - upstream:\n          base_url: \"%s\"\n\n", slow
  }
  /^  - \{ path: \/healthz/ {
    print; print "  - { prefix: /plain/, chain: plain, strip: /plain }"
    print "  - { prefix: /slow/, chain: slow, strip: /slow }"; next
  }
  { print }' conf/gemgate.yaml > "$WORK/gemgate.yaml"

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

cat > "$WORK/native.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
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
  esac
}

printf '%-6s %-8s %-40s %9s %10s %s\n' round workload binary req/s "CPU us/req" "${ALLOCS:+mallocs/req}"
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
        printf '%-6s %-8s %-40s %s/%s streams, peak RSS %d MiB, %s us/chunk\n' "$r" slow "$bin" \
          "$done_" "$SLOW_STREAMS" $((peak / 1024)) "$us"
        n=$((n + 1))
      done
      continue
    fi
    for bin in $BINS; do
      eval "pid=\$PID$n"
      url=$(url_of "$w" $((GG0 + n)))
      wrk -t1 -c"$CONNS" -d1s -s "$WORK/native.lua" "$url" >/dev/null
      before=$(cpu_ticks "$pid")
      if [ -n "${PERF_DIR:-}" ]; then
        perf record -q -F 999 -g -p "$pid" -o "$PERF_DIR/$w-$n.perf" -- sleep "$DURATION" 2>/dev/null &
        perf_pid=$!
      fi
      out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$WORK/native.lua" "$url")
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
        out=$(wrk -t1 -c8 -d2s -s "$WORK/native.lua" "$url")
        wait $sp || true
        reqs=$(echo "$out" | awk '/requests in/ {print $1}')
        calls=$(awk -F, '/probe_libc:malloc/ {print $1}' "$WORK/stat" 2>/dev/null || true)
        allocs=$(awk -v c="${calls:-0}" -v n="$reqs" 'BEGIN {printf "%.1f", c / n}')
      fi
      printf '%-6s %-8s %-40s %9d %10s %s%s\n' "$r" "$w" "$bin" "$rps" "$us" "$allocs" \
        "$([ "$bad" != 0 ] && echo " errors=$bad")"
      n=$((n + 1))
    done
  done
  r=$((r + 1))
done
