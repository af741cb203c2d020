#!/usr/bin/env bash
# Prepares a checkout: a .venv with axongrad and its extras, and Graphviz's `dot` binary.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again (it skips what is done).
#   AXONGRAD_EXTRAS  extras to install (default: dev,plots,data; demo.sh asks for plots only)
#   AXONGRAD_NEED_DOT=1  fail when `dot` cannot be installed (the demo needs it; tests skip)
# Extras add up: a .venv set up by the demo gains dev and data when the tests run, and keeps them.
# The torch extra installs PyTorch's CPU-only build from PyTorch's own index (a plain
# `pip install torch` on Linux pulls some twenty CUDA packages), unless PIP_FIND_LINKS names a
# folder that holds the pinned torch wheel already (CI machines, offline: see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${AXONGRAD_EXTRAS:-dev,plots,data}"
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"

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

# The extras as one sorted, comma-separated list without repeats: "plots,dev,plots" -> "dev,plots".
normalize_extras() {
  echo "$*" | tr ', ' '\n\n' | sed '/^$/d' | LC_ALL=C sort -u | paste -sd, -
}

# True when the comma-separated list $1 contains the extra $2.
has_extra() {
  case ",$1," in *",$2,"*) return 0 ;; esac
  return 1
}

# True when a folder named in PIP_FIND_LINKS holds a wheel for the pin $1 (e.g. torch==2.13.0).
local_wheel_for() {
  local name="${1%%==*}" version="${1#*==}" dir
  for dir in ${PIP_FIND_LINKS:-}; do
    dir="${dir#file://}"
    compgen -G "$dir/$name-$version[-+]*.whl" >/dev/null && return 0
  done
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

# Reinstall only when pyproject.toml changes or an extra is asked for that is not installed yet.
# The stamp holds "<checksum of pyproject.toml> <installed extras>".
stamp=.venv/.axongrad-installed
sum="$(cksum < pyproject.toml | cut -d' ' -f1)"
read -r old_sum old_extras 2>/dev/null < "$stamp" || { old_sum=""; old_extras=""; }
wanted="$(normalize_extras "$extras,${old_extras:-}")"
if [ "$old_sum" != "$sum" ] || [ "$wanted" != "$(normalize_extras "${old_extras:-}")" ]; then
  if has_extra "$wanted" torch; then
    torch_pin="$(grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"' | head -n 1)"
    if ! local_wheel_for "$torch_pin"; then
      echo "setup: installing PyTorch's CPU-only build ($torch_pin) from $TORCH_CPU_INDEX"
      .venv/bin/python -m pip install -q --disable-pip-version-check "$torch_pin" --index-url "$TORCH_CPU_INDEX"
    fi
  fi
  echo "setup: installing axongrad[$wanted] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$wanted]"
  echo "$sum $wanted" > "$stamp"
fi

if ! install_dot; then
  [ "${AXONGRAD_NEED_DOT:-0}" = "1" ] && exit 1
  echo "setup: continuing without dot: tests that render diagrams will be skipped" >&2
fi
