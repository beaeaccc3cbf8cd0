# gemgate in a container: Debian 12, built in one stage, installed from its own .deb in the next,
# so the image runs exactly what the .deb installs (tests/package checks the .deb; see README.md,
# "Install as a service").
#
#   docker build -t gemgate .
#   docker run -p 8080:8080 -v "$PWD/data:/data" -e API_KEYS=... -e ALLOWED_TOKENS=... gemgate
#
# The gateway runs as the non-root user gemgate (uid/gid 999) and keeps its database and master key
# in the volume /data: a host directory mounted there must be writable by uid 999.

FROM debian:12 AS build
WORKDIR /src
# The build packages first (dpkg-dev and file for cpack), so source edits keep this layer.
COPY conf/deps.sh conf/deps.sh
RUN . conf/deps.sh && gemgate_deps package && rm -rf /var/lib/apt/lists/*
COPY . .
# The one install step of gemgate: dist/package.sh (cmake, build, cpack -G DEB).
RUN sh dist/package.sh /tmp/build /out

FROM debian:12-slim
# Created before the package so that its uid is fixed (postinst keeps an existing user).
RUN groupadd --system --gid 999 gemgate \
 && useradd --system --uid 999 --gid gemgate --home-dir /var/lib/gemgate --no-create-home \
      --shell /usr/sbin/nologin --comment "gemgate AI gateway" gemgate
COPY --from=build /out/ /tmp/deb/
# apt installs the .deb with the Debian packages it depends on; curl is for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/deb/gemgate_*.deb curl \
 && rm -rf /var/lib/apt/lists/* /tmp/deb \
 && install -d -o gemgate -g gemgate -m 0700 /data

ENV DATABASE_URL=file:/data/gemgate.db
VOLUME /data
WORKDIR /data
USER gemgate
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/bin/gemgate"]
CMD ["--config", "/etc/gemgate/gemgate.yaml"]
