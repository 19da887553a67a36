#!/usr/bin/env bash
# The static gates, the same locally and in CI: ruff (lint + format), mypy, import contracts.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "== ruff lint";          $BIN/ruff check src tests bench scripts
echo "== ruff format";        $BIN/ruff format --check src tests bench scripts
echo "== mypy";               $BIN/mypy
echo "== mypy (scripts)";     $BIN/mypy --strict --no-warn-unused-configs scripts/import_contracts.py scripts/deps_graph.py
echo "== import contracts";   $BIN/lint-imports
