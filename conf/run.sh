#!/bin/sh
# Quick start: installs what is missing, builds gemgate (Release) and runs it on the built-in
# configuration (port 8080, SQLite under ./data). Extra arguments go to gemgate, e.g.
#   API_KEYS=AIza...,AIza... ALLOWED_TOKENS=my-token sh conf/run.sh --listen 127.0.0.1:8080
set -eu
cd "$(dirname "$0")/.."
. conf/deps.sh
gemgate_deps build
gemgate_build --target gemgate
mkdir -p data
echo "gemgate: starting; add Gemini keys with API_KEYS=... and client tokens with ALLOWED_TOKENS=... (see README)" >&2
exec ./build/conf/gemgate "$@"
