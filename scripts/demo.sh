#!/usr/bin/env bash
# `make demo`: the platform on its embedded defaults (SQLite, sample center), served locally.
set -euo pipefail
cd "$(dirname "$0")/.."
# The desk's softphone needs JsSIP from npm (bundled into node_modules/.build); the demo runs
# without it, the softphone then says it is not installed.
scripts/npm-deps.sh || echo "npm packages not installed: the desk's softphone is unavailable" >&2
exec .venv/bin/hotline demo --host "${HOTLINE_DEMO_HOST:-127.0.0.1}" --port "${HOTLINE_DEMO_PORT:-8000}" "$@"
