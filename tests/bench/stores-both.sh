#!/bin/sh
# The proxied request rate on both stores, one command: the full gateway chain (auth, models,
# retry, key pool, the stored request log) with one worker, driven by wrk through the same
# non-streaming generateContent call, first on SQLite, then on PostgreSQL (a throwaway server
# from tests/support/pg-server.sh, stopped afterwards). The upstream is nginx returning a canned
# Gemini answer, so it is never the bottleneck. Storage is written behind (its own thread,
# batched), so the two rates should match: the ratio postgres/sqlite is printed at the end.
#
# Usage: sh tests/bench/stores-both.sh [seconds] [connections]   (needs nginx, wrk, postgresql,
# and a built tree in ./build)
set -eu
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNS=${2:-50}
for tool in nginx wrk psql; do
  command -v "$tool" >/dev/null || { echo "stores-both: $tool is missing (see conf/deps.sh)" >&2; exit 1; }
done
cmake --build build --target gemgate >/dev/null

WORK=$(mktemp -d)
PG_STATE=$WORK/pg
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -n "${GG_PID:-}" ] && kill "$GG_PID" 2>/dev/null || true
  [ -f "$PG_STATE/url" ] && sh tests/support/pg-server.sh stop "$PG_STATE" >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

UP=19711 GG=19713
TOKEN=bench-client-token-0001
KEYS=AIzaBenchKey00000000000000000000000001,AIzaBenchKey00000000000000000000000002
ANSWER='{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"}'
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/body;
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$ANSWER'; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"
sed -e 's/^workers: 0/workers: 1/' -e 's/^      - log: {}/      - log: {access_log: false}/' \
  conf/gemgate.yaml > "$WORK/gemgate.yaml"
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
URL="http://127.0.0.1:$GG/v1beta/models/gemini-2.5-flash:generateContent?key=$TOKEN"

# measure NAME DATABASE_URL -> prints "NAME rps p50 p99 rows" and appends "NAME rps" to results
measure() {
  mkdir -p "$WORK/$1"
  ( cd "$WORK/$1" && DATABASE_URL="$2" GEMGATE_MASTER_KEY=$(printf 'ab%.0s' $(seq 32)) \
    API_KEYS="$KEYS" ALLOWED_TOKENS="$TOKEN" GOOGLE_API_HOST="http://127.0.0.1:$UP" \
    GEMGATE_LOG_LEVEL=warn exec "$OLDPWD/build/conf/gemgate" --config "$WORK/gemgate.yaml" \
    --listen 127.0.0.1:$GG 2>"$WORK/$1/gemgate.log" ) &
  GG_PID=$!
  tries=0
  until curl -sf -o /dev/null -X POST "$URL" -H 'content-type: application/json' -d '{}'; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { echo "stores-both: gemgate on $1 does not answer" >&2; cat "$WORK/$1/gemgate.log" >&2; exit 1; }
    sleep 0.1
  done
  wrk -t1 -c"$CONNS" -d2s -s "$WORK/post.lua" "$URL" >/dev/null  # warm-up
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "$URL")
  kill "$GG_PID"
  wait "$GG_PID" 2>/dev/null || true
  GG_PID=
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-22s %12s req/s   p50 %-9s p99 %-9s %s\n' "gateway on $1" "$rps" "$p50" "$p99" "$errs"
  echo "$1 $rps" >> "$WORK/results"
}

echo "gemgate on both stores: ${DURATION}s each, $CONNS connections, wrk -t1, 1 worker, loopback, $(nproc) cores"
measure sqlite "file:$WORK/sqlite/gemgate.db"
sh tests/support/pg-server.sh start "$PG_STATE" >/dev/null
base=$(cat "$PG_STATE/url")
psql "${base}postgres" -qAt -c "CREATE DATABASE bench TEMPLATE template0"
measure postgres "${base}bench"
rows=$(psql "${base}bench" -qAt -c "SELECT count(*) FROM request_log")
echo "request rows stored on postgres: $rows"
awk '{ r[$1] = $2 } END { printf "ratio postgres/sqlite: %.2f\n", r["postgres"] / r["sqlite"] }' "$WORK/results"
