# The benchmarks' port check, shared by compare.sh and hotpath.sh (sourced, POSIX sh).
#
# need_free_ports SCRIPT PORT... — returns when no socket listens on any PORT (TCP, any address);
# otherwise prints which ports are taken and by what (ss -p, when it may tell), how to move
# (BENCH_PORT_BASE) and exits 1. Two benchmark runs at once would otherwise bind-fail in one of
# them while it measures the other's processes. It checks once, before the script starts its
# processes; a port taken between the check and the bind still fails, and each script checks
# that its processes are alive after starting them.
need_free_ports() {
  script=$1
  shift
  taken=""
  command -v ss >/dev/null 2>&1 || { echo "$script: no ss (iproute2): ports not checked" >&2; return 0; }
  for port in "$@"; do
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then taken="$taken $port"; fi
  done
  [ -z "$taken" ] && return 0
  echo "$script: port(s)$taken already in use; another benchmark is running (wrap runs in" \
    "'flock /tmp/bench.lock ...') or set BENCH_PORT_BASE to a free range:" >&2
  for port in $taken; do ss -Hltnp "sport = :$port" 2>/dev/null | sed 's/^/  /' >&2; done
  exit 1
}
