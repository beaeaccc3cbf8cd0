#!/bin/sh
# Quick start: installs what is missing, builds gemgate (Release) and runs it on the built-in
# configuration (port 8080, SQLite under ./data). Extra arguments go to gemgate, e.g.
#   API_KEYS=AIza...,AIza... ALLOWED_TOKENS=my-token sh conf/run.sh --listen 127.0.0.1:8080
set -eu
cd "$(dirname "$0")/.."
. conf/deps.sh
gemgate_deps build
gemgate_build --target gemgate
# ./data holds the database and the master key: this user's only (the gateway makes the files
# 0600). An existing directory is left as it is.
if [ ! -d data ]; then
  (umask 077 && mkdir data)
fi
# The hint is for a first start without keys or tokens; once stored, later starts need neither.
if [ -z "${DATABASE_URL:-}" ] && [ ! -f data/gemgate.db ]; then
  hint=""
  if [ -z "${API_KEYS:-}" ]; then hint="Gemini keys with API_KEYS=..."; fi
  if [ -z "${ALLOWED_TOKENS:-}" ]; then
    hint="${hint:+$hint and }client tokens with ALLOWED_TOKENS=..."
  fi
  if [ -n "$hint" ]; then echo "gemgate: first start; add $hint (see README)" >&2; fi
fi
exec ./build/conf/gemgate "$@"
