#!/usr/bin/env bash
# `make demo`: the platform on its embedded defaults (SQLite, sample center), served locally.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/hotline demo --host "${HOTLINE_DEMO_HOST:-127.0.0.1}" --port "${HOTLINE_DEMO_PORT:-8000}" "$@"
