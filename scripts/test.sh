#!/usr/bin/env bash
# Set up and run every test: what CI runs (.ci/run) and what `make test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false \
  SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore::DeprecationWarning

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "environments"
bash scripts/setup.sh

step "browser for the mini-app tests: Debian chromium"
bash scripts/ensure_chromium.sh

step "lint: ruff, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

step "training data: generated files in sync, rasa data validate"
.venv/bin/python scripts/gen_nlu_lookups.py --check
.venv-engine/bin/python scripts/validate_data.py

step "engine tests: tokenizer, extractors, actions (Python 3.10)"
.venv-engine/bin/python -m pytest tests/engine -q -p no:cacheprovider

step "service tests on SQLite and PostgreSQL (Python $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'))"
# On every core (pytest-xdist): each test has its own database and ports, so they do not meet.
.venv/bin/python -m pytest tests/service -q -p no:cacheprovider -n "${HUE_S_TEST_WORKERS:-auto}"

step "model: train if missing or stale"
make --no-print-directory train

step "Rasa test stories (dialogue and NLU on the stories' own texts)"
rm -rf results/stories
.venv-engine/bin/rasa test core --stories tests/stories --model models \
  --out results/stories --fail-on-prediction-errors --no-plot

step "end to end: Rasa + action server + service (+ the mini-app in headless Chromium)"
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider

step "all tests passed"
