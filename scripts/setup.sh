#!/usr/bin/env bash
# Build both environments from the pinned lock files (idempotent; fast when nothing changed).
#   .venv         service, Python >= 3.11: the bot package and its tools
#   .venv-engine  engine, Python 3.10: Rasa 3.6, rasa-sdk, pyvi
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {  # find_python 3.10 → path of an interpreter of that minor version
  local want=$1 candidate
  for candidate in \
      "$(command -v "python$want" 2>/dev/null || true)" \
      "$(uv python find "$want" 2>/dev/null || true)" \
      $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/"$want".*/bin/python 2>/dev/null || true); do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

ensure_uv() {
  command -v uv >/dev/null 2>&1 && return
  if ! python3 -m uv --version >/dev/null 2>&1; then
    say "installing uv (package installer) with pip"
    python3 -m pip install --quiet "uv==0.13.8" || die "could not install uv with pip"
  fi
  # pip may put the uv binary where PATH does not look (pyenv shims need a rehash).
  uv() { python3 -m uv "$@"; }
}

# stamp_ok VENV LOCK → true when VENV was built from exactly this LOCK
stamp_ok() { [ -f "$1/.lock.sha256" ] && sha256sum "$2" | cmp -s - "$1/.lock.sha256"; }

build_env() {  # build_env VENV PYTHON LOCK [EDITABLE]
  local venv=$1 python=$2 lock=$3 editable=${4:-}
  if stamp_ok "$venv" "$lock"; then return; fi
  say "building $venv from $lock"
  [ -x "$venv/bin/python" ] || uv venv --quiet --python "$python" "$venv"
  uv pip sync --quiet --python "$venv/bin/python" "$lock"
  if [ -n "$editable" ]; then
    uv pip install --quiet --python "$venv/bin/python" --no-deps -e .
  fi
  sha256sum "$lock" > "$venv/.lock.sha256"
}

ensure_uv
PY311=$(find_python 3.11 || find_python 3.12 || find_python 3.13) \
  || die "the service needs Python >= 3.11; none was found (install python3.11)"
PY310=$(find_python 3.10) || die "the Rasa engine needs Python 3.10 and none was found.
Install it (e.g. 'pyenv install 3.10' or your distribution's python3.10) and run again."

build_env .venv "$PY311" requirements/service.lock editable
build_env .venv-engine "$PY310" requirements/engine.lock
say "environments ready: .venv ($("$PY311" -V)), .venv-engine ($("$PY310" -V))"
