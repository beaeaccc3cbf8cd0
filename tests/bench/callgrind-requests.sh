#!/bin/sh
# callgrind-requests.sh: instructions per request of one gemgate binary on one route, counted by
# valgrind's callgrind (the count does not depend on the machine's load, unlike CPU time).
# It starts the canned upstream and the gateway under callgrind (1 worker, the built-in config
# plus /plain/ as hotpath.sh has it) with instrumentation off, sends WARMUP requests, turns it on, sends N
# requests on keep-alive connections (curl, one connection per 100), dumps the counters and
# prints Ir / N. The callgrind.out file stays in OUT for callgrind_annotate.
#
#   sh tests/bench/callgrind-requests.sh BIN ROUTE [N=1000] [OUT=/tmp/cg-ROUTE]
# ROUTE: plain | gateway | sse | gwsse
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=$(realpath "$1")
ROUTE=$2
N=${3:-1000}
OUT=${4:-/tmp/cg-$ROUTE}
WARMUP=${WARMUP:-200}
UP=${CG_UP:-29811} GG=${CG_GG:-29830}
TOKEN=bench-client-token-0001
WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
. tests/bench/canned-upstream.sh
write_canned_upstream "$WORK/up" "$UP"
nginx -c "$WORK/up/nginx.conf" -p "$WORK/up" &
PIDS="$PIDS $!"
awk '/^workers:/ { print "workers: 1"; next }
  /^  health:/ { print "  plain:\n    filters:\n      - upstream: {base_url: *google}\n" }
  /^  - \{ path: \/healthz/ { print; print "  - { prefix: /plain/, chain: plain, strip: /plain }"; next }
  { print }' conf/gemgate.yaml > "$WORK/gemgate.yaml"
mkdir -p "$OUT" "$WORK/gg"
rm -f "$OUT"/callgrind.out*
(cd "$WORK/gg" && API_KEYS="AIzaBenchKey00000000000000000000000001" ALLOWED_TOKENS="$TOKEN" \
  GOOGLE_API_HOST="http://127.0.0.1:$UP" exec valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$OUT/callgrind.out" "$BIN" --config "$WORK/gemgate.yaml" \
  --listen 127.0.0.1:$GG 2>"$OUT/gemgate.log") &
VG=$!
PIDS="$PIDS $VG"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$GG/healthz"; do
  i=$((i + 1)); [ $i -gt 120 ] && { echo "gemgate did not start" >&2; cat "$OUT/gemgate.log" >&2; exit 1; }
  sleep 0.5
done
case $ROUTE in
  plain) P="/plain/v1beta/models/gemini-2.5-flash:generateContent?key=$TOKEN" ;;
  gateway) P="/v1beta/models/gemini-2.5-flash:generateContent?key=$TOKEN" ;;
  sse) P="/plain/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=$TOKEN" ;;
  gwsse) P="/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=$TOKEN" ;;
esac
send() { # COUNT: COUNT POSTs, 100 per curl (one keep-alive connection each)
  left=$1
  while [ "$left" -gt 0 ]; do
    k=100; [ "$left" -lt 100 ] && k=$left
    : > "$WORK/cfg"
    j=0
    while [ $j -lt $k ]; do
      printf 'url = "http://127.0.0.1:%s%s"\noutput = /dev/null\n' "$GG" "$P" >> "$WORK/cfg"
      j=$((j + 1))
    done
    curl -s -K "$WORK/cfg" -H 'content-type: application/json' \
      --data '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}' -w '%{http_code}\n' > "$WORK/codes"  || echo "curl failed: $?" >&2
    bad=$(grep -vc '^200$' "$WORK/codes" || true)
    [ "$bad" = 0 ] || { echo "non-200 answers: $bad" >&2; sort "$WORK/codes" | uniq -c >&2; }
    left=$((left - k))
  done
}
send "$WARMUP"
sleep 1
callgrind_control -i on "$VG" >/dev/null
send "$N"
sleep 2   # the stored log's batch reaches the database
callgrind_control -d "$VG" >/dev/null
sleep 1
f=$(ls -t "$OUT"/callgrind.out.* | head -1)
ir=$(awk '/^summary:/ {print $2}' "$f")
printf '%s %s: %s instructions in %s requests, %s per request (%s)\n' "$BIN" "$ROUTE" "$ir" "$N" \
  "$(awk -v a="$ir" -v n="$N" 'BEGIN {printf "%.0f", a / n}')" "$f"
