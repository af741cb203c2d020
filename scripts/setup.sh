#!/usr/bin/env bash
# Prepares a checkout: a .venv with axongrad and its extras, and Graphviz's `dot` binary.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again (it skips what is done).
#   AXONGRAD_EXTRAS  extras to install (default: dev,plots,data)
#   AXONGRAD_NEED_DOT=1  fail when `dot` cannot be installed (the demo needs it; tests skip)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${AXONGRAD_EXTRAS:-dev,plots,data}"

find_python() {
  for py in python3 python3.13 python3.12 python3.11 python3.10 python; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

install_dot() {
  command -v dot >/dev/null 2>&1 && return 0
  echo "setup: Graphviz's dot binary is missing; installing it"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq graphviz >/dev/null || true
  elif command -v dnf >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    $sudo dnf install -y graphviz || true
  elif command -v brew >/dev/null 2>&1; then
    brew install graphviz || true
  fi
  command -v dot >/dev/null 2>&1 && return 0
  cat >&2 <<'MSG'
setup: could not install Graphviz's `dot` binary automatically. Install it, then run again:
  Debian/Ubuntu:  sudo apt-get install -y graphviz
  Fedora/RHEL:    sudo dnf install -y graphviz
  Arch:           sudo pacman -S graphviz
  macOS:          brew install graphviz
  Conda:          conda install -c conda-forge graphviz
Diagrams still build as DOT text (.source) without it; rendering SVG/PNG needs it.
MSG
  return 1
}

py=$(find_python) || {
  echo "setup: needs Python >= 3.10 with venv (Debian/Ubuntu: sudo apt-get install -y python3 python3-venv)" >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $py"
  "$py" -m venv .venv || {
    echo "setup: '$py -m venv' failed (Debian/Ubuntu: sudo apt-get install -y python3-venv)" >&2; exit 1; }
fi

# Reinstall only when pyproject.toml or the extras change.
stamp=.venv/.axongrad-installed
key="$(cksum < pyproject.toml | cut -d' ' -f1) $extras"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$key" ]; then
  echo "setup: installing axongrad[$extras] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]"
  echo "$key" > "$stamp"
fi

if ! install_dot; then
  [ "${AXONGRAD_NEED_DOT:-0}" = "1" ] && exit 1
  echo "setup: continuing without dot: tests that render diagrams will be skipped" >&2
fi
