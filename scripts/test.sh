#!/usr/bin/env bash
# The README's second command: set up, run the test suite, then the linters (ruff, mypy).
set -euo pipefail
cd "$(dirname "$0")/.."
AXONGRAD_EXTRAS="${AXONGRAD_EXTRAS:-dev,plots,data}" bash scripts/setup.sh
.venv/bin/python -m pytest -q "$@"
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
