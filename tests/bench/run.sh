#!/bin/sh
# Proxy benchmark: the same non-streaming generateContent call, on loopback, through
#   1. nothing (the upstream directly),
#   2. nginx as a plain reverse proxy (the bar a C++ proxy should meet),
#   3. gemgate as a plain proxy (a chain of the upstream filter alone, 1 worker),
#   4. gemgate as the gateway (auth + models + retry + key pool + stored request log, 1 worker),
#   5. a minimal Node.js gateway (tests/bench/node-proxy.mjs; a lower bound for a Node gateway),
#   6. the libcurl transport alone, no downstream (tests/bench/transport_bench.cpp): the ceiling
#      for any proxy whose upstream side is libcurl,
# each driven by wrk with the same connections and duration, in one run. The upstream is nginx
# returning a canned Gemini answer, so it is never the bottleneck. Prints requests/s, latency and
# the ratios plain gemgate/nginx and gateway gemgate/node. Timing goals live here, never in tests.
#
# Usage: sh tests/bench/run.sh [seconds] [connections]     (installs nginx and wrk when missing)
set -eu
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNS=${2:-50}
. conf/deps.sh
gemgate_deps test
missing=$(gemgate_missing nginx-light wrk)
if [ -n "$missing" ] && [ -n "$(gemgate_missing nginx wrk)" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
gemgate_build --target gemgate bench_transport

WORK=$(mktemp -d)
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -n "${GG_PID:-}" ] && kill "$GG_PID" 2>/dev/null || true
  [ -n "${NODE_PID:-}" ] && kill "$NODE_PID" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

UP=19701 NGX=19702 GG=19703 NODE=19704
TOKEN=bench-client-token-0001
KEY1=AIzaBenchKey00000000000000000000000001
KEY2=AIzaBenchKey00000000000000000000000002
ANSWER='{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"}'

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/body;
  proxy_temp_path $WORK/proxy;
  upstream gemini { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$ANSWER'; }
  }
  server {
    listen 127.0.0.1:$NGX;
    location / {
      proxy_pass http://gemini;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header x-goog-api-key $KEY1;
    }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"

# The built-in configuration with one worker, no access line, and one more route: /plain/ runs a
# chain of the upstream filter alone (gemgate as a plain reverse proxy, like the nginx row).
sed -e 's/^workers: 0/workers: 1/' -e 's/^      - log: {}/      - log: {access_log: false}/' \
  -e 's|^  health:|  plain:\n    filters:\n      - upstream: {base_url: *google}\n\n  health:|' \
  -e 's|^  - { path: /healthz, chain: health }|  - { path: /healthz, chain: health }\n  - { prefix: /plain/, chain: plain, strip: /plain }|' \
  conf/gemgate.yaml > "$WORK/gemgate.yaml"
( cd "$WORK" && API_KEYS="$KEY1,$KEY2" ALLOWED_TOKENS="$TOKEN" GOOGLE_API_HOST="http://127.0.0.1:$UP" \
  GEMGATE_LOG_LEVEL=warn exec "$OLDPWD/build/conf/gemgate" --config "$WORK/gemgate.yaml" \
  --listen 127.0.0.1:$GG 2>"$WORK/gemgate.log" ) &
GG_PID=$!
node tests/bench/node-proxy.mjs $NODE "http://127.0.0.1:$UP" "$TOKEN" "$KEY1" "$KEY2" &
NODE_PID=$!
sleep 1.5

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
PATH_Q="/v1beta/models/gemini-2.5-flash:generateContent?key=$TOKEN"

# run NAME PORT [PATH] -> prints "NAME rps p50 p99" and appends to the results file
run() {
  url="http://127.0.0.1:$2${3:-$PATH_Q}"
  curl -sf -o /dev/null -X POST "$url" -H 'content-type: application/json' -d '{}' \
    || { echo "bench: $1 on port $2 does not answer" >&2; exit 1; }
  wrk -t1 -c"$CONNS" -d2s -s "$WORK/post.lua" "$url" >/dev/null  # warm-up
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "$url")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-22s %12s req/s   p50 %-9s p99 %-9s %s\n' "$1" "$rps" "$p50" "$p99" "$errs"
  echo "$1 $rps" >> "$WORK/results"
}

echo "gemgate proxy benchmark: ${DURATION}s per target, $CONNS connections, wrk -t1, loopback, $(nproc) cores"
run "upstream (direct)" $UP
run "nginx proxy" $NGX
run "gemgate plain proxy" $GG "/plain$PATH_Q"
run "gemgate gateway" $GG
run "node gateway" $NODE
GG_RSS=$(awk '/VmRSS/ {print $2}' /proc/$GG_PID/status 2>/dev/null || echo 0)
# libcurl's share: the upstream side alone (no downstream), same connections and duration.
curl_rps=$(./build/tests/bench/bench_transport "http://127.0.0.1:$UP$PATH_Q" "$DURATION" "$CONNS" | awk '{print $1}')
printf '%-22s %12s req/s   (upper bound of any proxy built on the libcurl transport)\n' "libcurl transport only" "$curl_rps"
echo "libcurl $curl_rps" >> "$WORK/results"
awk -v rss="$GG_RSS" '
  /^gemgate plain/ { rps["plain"] = $NF; next }
  /^gemgate gateway/ { rps["gg"] = $NF; next }
  /^nginx/ { rps["ngx"] = $NF; next }
  /^node/ { rps["node"] = $NF; next }
  /^libcurl/ { rps["curl"] = $NF; next }
  END {
    printf "ratio plain proxy gemgate/nginx: %.2f   (libcurl alone/nginx: %.2f)\n", rps["plain"] / rps["ngx"], rps["curl"] / rps["ngx"]
    printf "ratio full gateway gemgate/node gateway: %.2f\n", rps["gg"] / rps["node"]
    printf "gemgate RSS after load: %d KiB\n", rss
  }' "$WORK/results"
