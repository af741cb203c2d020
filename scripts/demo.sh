#!/usr/bin/env bash
# The README's first command: set up, train a small network and write the diagrams to output/.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo draws and plots: the plots extra (matplotlib, numpy) is all it needs. The test command
# adds the developer tools (pytest, hypothesis, ruff, mypy, micrograd) and scikit-learn.
AXONGRAD_EXTRAS="${AXONGRAD_EXTRAS:-plots}" AXONGRAD_NEED_DOT=1 bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
