# One task runner for developers and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
ENGINE := .venv-engine/bin
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

setup: ## build both environments (.venv service, .venv-engine Rasa) from the lock files
	@bash scripts/setup.sh

run: setup ## set up, migrate, train if needed, and run the whole assistant on SQLite
	@$(VENV)/hue-s up

chat: ## chat with the running assistant in this terminal
	@$(VENV)/hue-s chat

migrate: setup ## apply database migrations
	@$(VENV)/hue-s migrate

train: setup ## train the model if the data, config or components changed
	@$(VENV)/python -m bot.training

lint: setup ## ruff (lint + format check) and mypy
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

validate: setup ## rasa data validate + generated files in sync
	$(VENV)/python scripts/gen_nlu_lookups.py --check
	$(ENGINE)/python scripts/validate_data.py

test: setup ## set up and run every test (what CI runs)
	@bash scripts/test.sh

bench-nlu: setup ## NLU pipelines over 3 seeds → docs/benchmarks/nlu.md (ARGS="--test-set tuning --variants chosen"; "--test-set blind")
	$(ENGINE)/python bench/nlu_pipelines.py $(ARGS)

bench-engine: setup ## engine timings, memory, gateway vs Rasa REST → docs/benchmarks/engine.md
	$(VENV)/python bench/engine.py

bench-search: setup ## procedure search accuracy and latency, SQLite and PostgreSQL → docs/benchmarks/search.md
	$(VENV)/python bench/search.py

bench-classify: setup ## report category classification accuracy → docs/benchmarks/classification.md
	$(VENV)/python bench/report_classification.py

bench-conversations: setup ## the real assistant on blind messages and conversations → docs/benchmarks/conversations.md (ARGS="--part both")
	$(VENV)/python bench/conversations.py $(ARGS)

coverage-procedures: setup ## how much of the catalogue the parser reads
	$(VENV)/python scripts/procedure_coverage.py

.PHONY: help setup run chat migrate train lint validate test bench-nlu bench-engine bench-search bench-classify bench-conversations coverage-procedures
