#!/bin/sh
# The Dockerfile and compose.yaml, checked without docker (none on the test machines): they must
# use gemgate's one install step (dist/package.sh -> the .deb, installed with apt) that
# package.deb tests, and agree with the rest of the tree: every COPY source exists, the build
# packages come from conf/deps.sh, the health check asks a route of conf/gemgate.yaml, the exposed
# port is the listener's, the configuration is the one the .deb installs, the data volume is
# where DATABASE_URL points, and the user is not root. The image itself is not built here.
#
#   sh tests/package/docker_files.sh
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
dockerfile=$src/Dockerfile
compose=$src/compose.yaml
failed=0
check() {  # check DESCRIPTION COMMAND...: runs the command, counts a failure with the description
  what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAILED: $what"; failed=$((failed + 1)); fi
}
has() { grep -Eq -- "$1" "$2"; }

[ -f "$dockerfile" ] || { echo "docker_files: no Dockerfile"; exit 1; }
[ -f "$compose" ] || { echo "docker_files: no compose.yaml"; exit 1; }

# Debian 12, two stages, the runtime installs the package the build stage made.
check "the build stage is Debian 12" has '^FROM debian:12 AS build$' "$dockerfile"
check "the runtime stage is Debian 12" has '^FROM debian:12-slim$' "$dockerfile"
check "the build packages come from conf/deps.sh (gemgate_deps package)" \
  has '^RUN \. conf/deps\.sh && gemgate_deps package' "$dockerfile"
check "conf/deps.sh knows the 'package' set" has '^ *package[ |)]' "$src/conf/deps.sh"
check "the build stage runs dist/package.sh" has '^RUN sh dist/package\.sh [^ ]+ /out$' "$dockerfile"
check "dist/package.sh exists and runs cpack -G DEB" has 'cpack -G DEB' "$src/dist/package.sh"
check "the runtime copies the packages from the build stage" has '^COPY --from=build /out/ /tmp/deb/$' "$dockerfile"
check "the runtime installs the service package with apt" \
  has 'apt-get install -y --no-install-recommends /tmp/deb/gemgate_\*\.deb' "$dockerfile"

# Every plain COPY source exists in the tree and is not excluded by .dockerignore.
# shellcheck disable=SC2013  # COPY sources are single words
for source in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$dockerfile"); do
  check "COPY source '$source' exists" test -e "$src/$source"
  if [ "$source" != . ]; then
    check "COPY source '$source' is not in .dockerignore" sh -c "! grep -qxF -- '$source' '$src/.dockerignore'"
  fi
done
for needed in CMakeLists.txt conf dist core filters; do
  check ".dockerignore keeps $needed" sh -c "! grep -qx -- '$needed' '$src/.dockerignore'"
done

# Run time: what the .deb installs and what conf/gemgate.yaml serves.
conffile=$(cat "$src/dist/deb/conffiles")
check "the image runs the configuration the .deb installs ($conffile)" \
  has "^CMD \[\"--config\", \"$conffile\"\]$" "$dockerfile"
check "the entry point is the packaged binary" has '^ENTRYPOINT \["/usr/bin/gemgate"\]$' "$dockerfile"
port=$(sed -n 's/^  - address: .*:\([0-9]*\)$/\1/p' "$src/conf/gemgate.yaml" | head -n 1)
check "EXPOSE is the listener's port ($port)" has "^EXPOSE $port$" "$dockerfile"
check "HEALTHCHECK asks /healthz on that port" has "curl -fsS .*http://127\.0\.0\.1:$port/healthz" "$dockerfile"
check "/healthz is a route of conf/gemgate.yaml" has '\{ path: /healthz, chain: [a-z]+ \}' "$src/conf/gemgate.yaml"
check "the data volume is /data" has '^VOLUME /data$' "$dockerfile"
check "DATABASE_URL points into /data" has '^ENV DATABASE_URL=file:/data/[^ ]+\.db$' "$dockerfile"
check "the gateway does not run as root" has '^USER gemgate$' "$dockerfile"
check "the user gemgate has a fixed uid" has 'useradd --system --uid [0-9]+ ' "$dockerfile"

# compose.yaml: the same image, ./data mounted, the port published; the postgres profile runs
# PostgreSQL and three gateways of one group on it.
check "compose builds the Dockerfile of the tree" has '^    build: \.$' "$compose"
check "compose mounts ./data at /data" has '^      - \./data:/data$' "$compose"
check "compose publishes the listener's port" has "^      - \"$port:$port\"$" "$compose"
check "the plain gemgate service has no profile (the default start)" \
  sh -c "sed -n '/^  gemgate:\$/,/^  [a-z-]*:\$/p' '$compose' | grep -vq 'profiles:'"
check "compose has a postgres profile" has '^ *profiles: \[postgres\]$' "$compose"
check "the postgres profile has a PostgreSQL service with a health check" \
  sh -c "grep -q '^  postgres:\$' '$compose' && grep -q 'pg_isready' '$compose'"
check "the group's gateways reach it with a postgres:// DATABASE_URL" \
  has '^  DATABASE_URL: postgres://.+@postgres:5432/' "$compose"
check "the group shares one master key (required)" has '^  GEMGATE_MASTER_KEY: \$\{GEMGATE_MASTER_KEY:\?' "$compose"
for gw in a b c; do
  check "gateway gemgate-$gw is in the group with its own instance id" \
    sh -c "grep -q '^  gemgate-$gw:\$' '$compose' && grep -q 'GEMGATE_INSTANCE_ID: gemgate-$gw\$' '$compose'"
  check "gateway gemgate-$gw publishes the listener's port on a port of its own" \
    has "^      - \"808[1-3]:$port\"$" "$compose"
done
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  check "docker compose config accepts the postgres profile" \
    env POSTGRES_PASSWORD=x GEMGATE_MASTER_KEY=00 docker compose -f "$compose" --profile postgres config -q
else
  echo "skip: docker compose is not installed; compose.yaml checked by text only"
fi

if [ "$failed" -ne 0 ]; then
  echo "docker_files: $failed check(s) failed"
  exit 1
fi
echo "docker_files: Dockerfile and compose.yaml agree with the tree"
