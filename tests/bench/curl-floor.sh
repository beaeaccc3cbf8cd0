#!/bin/sh
# curl-floor.sh: how far the upstream side is from libcurl's own floor, in one run, rows
# interleaved so the same load hits all of them. CPU µs per request for
#   floor         bench_curl_floor: the bare libcurl multi API on epoll, no gemgate code
#   floor-gg      the same with every option gemgate sets (tests/bench/curl_floor_bench.cpp --gemgate)
#   transport     bench_transport: gemgate's CurlMultiTransport alone, no downstream
#   nginx         nginx proxy_pass as a whole (downstream and upstream side), 1 worker, wrk -c CONNS
#   gemgate       each BIN's /plain/ route (upstream filter only), 1 worker, wrk -c CONNS
# against the canned upstream over plain HTTP/1.1 (h1) and over TLS + HTTP/2 (h2: an HAProxy with a
# self-signed certificate, like compare.sh's `tls`; nginx proxies to it over HTTP/1.1 keep-alive).
# The bench programs count their own getrusage and mallocs (tests/bench/malloc_count.h); the
# proxies' CPU is read from /proc/PID/stat (hotpath.sh's ALLOCS=1 counts their mallocs).
#
#   sh tests/bench/curl-floor.sh [seconds=5] [rounds=2] [BIN...]   (default BIN: build/conf/gemgate)
# Needs nginx, haproxy, wrk, openssl and build/tests/bench/{bench_curl_floor,bench_transport}.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=${1:-5}
ROUNDS=${2:-2}
shift 2 2>/dev/null || shift $#
BINS=""
for b in ${*:-$ROOT/build/conf/gemgate}; do BINS="$BINS $(realpath "$b")"; done
CONNS=${CONNS:-32}
BENCH=$ROOT/build/tests/bench
UP=29811 UPS=29812 NGX=29821 GG0=29830
TICK=$(getconf CLK_TCK)
KEY=AIzaBenchKey00000000000000000000000001

WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# ---- upstreams: the canned nginx (h1) and an HAProxy serving the same answer over TLS + h2 ----
. tests/bench/canned-upstream.sh
write_canned_upstream "$WORK/up" "$UP"
nginx -c "$WORK/up/nginx.conf" -p "$WORK/up" &
PIDS="$PIDS $!"
write_tls_upstream "$WORK" "$UPS"
haproxy -f "$WORK/up/haproxy.cfg" -db 2>"$WORK/up/haproxy.log" &
PIDS="$PIDS $!"

# ---- nginx as the plain proxy, 1 worker (as compare.sh configures it) ----
mkdir -p "$WORK/ngx"
cat > "$WORK/ngx/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/ngx/body;
  proxy_temp_path $WORK/ngx/proxy;
  keepalive_requests 1000000;
  upstream plain { server 127.0.0.1:$UP; keepalive 256; keepalive_requests 1000000; }
  upstream tls { server 127.0.0.1:$UPS; keepalive 256; keepalive_requests 1000000; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header x-goog-api-key $KEY;
  server { listen 127.0.0.1:$NGX backlog=4096; location / { proxy_pass http://plain; } }
  server {
    listen 127.0.0.1:$((NGX + 1)) backlog=4096;
    location / {
      proxy_pass https://tls;
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $WORK/upstream.crt;
      proxy_ssl_session_reuse on;
    }
  }
}
NGINX
nginx -c "$WORK/ngx/nginx.conf" -p "$WORK/ngx" &
NGX_PID=$!
PIDS="$PIDS $NGX_PID"

# ---- gemgate: the built-in configuration at 1 worker plus /plain/ and /tlsplain/ ----
awk -v tls="https://localhost:$UPS" '/^workers:/ { print "workers: 1"; next }
  /^  health:/ {
    print "  plain:\n    filters:\n      - upstream: {base_url: *google}\n"
    print "  tlsplain:\n    filters:\n      - upstream: {base_url: \"" tls "\"}\n"
  }
  /^  - \{ path: \/healthz/ {
    print; print "  - { prefix: /plain/, chain: plain, strip: /plain }"
    print "  - { prefix: /tlsplain/, chain: tlsplain, strip: /tlsplain }"; next
  }
  { print }' conf/gemgate.yaml > "$WORK/gemgate.yaml"
n=0
for bin in $BINS; do
  mkdir -p "$WORK/gg$n"
  (cd "$WORK/gg$n" && API_KEYS="$KEY" ALLOWED_TOKENS=bench-client-token-0001 \
    GOOGLE_API_HOST="http://127.0.0.1:$UP" GEMGATE_UPSTREAM_CA_FILE="$WORK/upstream.crt" \
    exec "$bin" --config "$WORK/gemgate.yaml" --listen 127.0.0.1:$((GG0 + n)) \
    2>"$WORK/gg$n/log") &
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
JSON=/v1beta/models/gemini-2.5-flash:generateContent

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# nginx's CPU is its worker's (the master only waits).
ngx_worker() { ps -o pid= --ppid "$NGX_PID" | head -1 | tr -d ' '; }

wrk_row() { # PROTO NAME PID URL
  wrk -t1 -c"$CONNS" -d1s -s "$WORK/native.lua" "$4" >/dev/null
  before=$(cpu_ticks "$3")
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$WORK/native.lua" "$4")
  after=$(cpu_ticks "$3")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  bad=$(echo "$out" | awk '/Non-2xx/ {n += $NF} END {print n + 0}')
  us=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$reqs" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  printf '%-6s %-3s %-44s %9d %10s%s\n' "$r" "$1" "$2" $((reqs / DURATION)) "$us" \
    "$([ "$bad" != 0 ] && echo " errors=$bad")"
}

# The bench programs print "req/s cpu-us failed mallocs rss" (bench_curl_floor) or
# "req/s failed cpu-us mallocs rss" (bench_transport).
bench_row() { # PROTO NAME COMMAND...
  p=$1 name=$2
  shift 2
  out=$("$@" 2>/dev/null)
  case $name in
    transport*) set -- $out; rps=$1 failed=$2 us=$3 mallocs=$4 ;;
    *) set -- $out; rps=$1 us=$2 failed=$3 mallocs=$4 ;;
  esac
  printf '%-6s %-3s %-44s %9.0f %10.1f %11s%s\n' "$r" "$p" "$name" "$rps" "$us" "$mallocs" \
    "$([ "$failed" != 0 ] && echo " errors=$failed")"
}

printf '%-6s %-3s %-44s %9s %10s %11s\n' round up row req/s "CPU us/req" mallocs/req
H1=http://127.0.0.1:$UP$JSON
H2=https://localhost:$UPS$JSON
GGOPTS="--gemgate --seturl --buffersize=8192"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  bench_row h1 floor "$BENCH/bench_curl_floor" "$H1" "$DURATION" "$CONNS"
  bench_row h1 floor-gg "$BENCH/bench_curl_floor" "$H1" "$DURATION" "$CONNS" $GGOPTS
  bench_row h1 transport "$BENCH/bench_transport" "$H1" "$DURATION" "$CONNS"
  wrk_row h1 nginx "$(ngx_worker)" "http://127.0.0.1:$NGX$JSON"
  n=0
  for bin in $BINS; do
    eval "pid=\$PID$n"
    wrk_row h1 "$bin" "$pid" "http://127.0.0.1:$((GG0 + n))/plain$JSON"
    n=$((n + 1))
  done
  bench_row h2 floor "$BENCH/bench_curl_floor" "$H2" "$DURATION" "$CONNS" --h2 --cainfo="$WORK/upstream.crt"
  bench_row h2 floor-gg "$BENCH/bench_curl_floor" "$H2" "$DURATION" "$CONNS" --h2 \
    --cainfo="$WORK/upstream.crt" $GGOPTS
  bench_row h2 transport "$BENCH/bench_transport" "$H2" "$DURATION" "$CONNS" "$WORK/upstream.crt"
  wrk_row h2 nginx "$(ngx_worker)" "http://127.0.0.1:$((NGX + 1))$JSON"
  n=0
  for bin in $BINS; do
    eval "pid=\$PID$n"
    wrk_row h2 "$bin" "$pid" "http://127.0.0.1:$((GG0 + n))/tlsplain$JSON"
    n=$((n + 1))
  done
  r=$((r + 1))
done
