#!/usr/bin/env bash
# The README's first command: set up, train a small network and write the diagrams to output/.
set -euo pipefail
cd "$(dirname "$0")/.."
AXONGRAD_NEED_DOT=1 bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
