# Everyday commands; the virtualenv is .venv (python3 -m venv .venv && .venv/bin/pip install -e '.[dev]').
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up bench check

up:  ## start PostgreSQL, NATS and every service with the demo county (Ctrl-C stops)
	$(BIN)/gongkai up

bench:  ## every part against its raw baseline (BENCH_ARGS="store --events 50000", see docs/benchmarks.md)
	$(BIN)/gongkai bench $(BENCH_ARGS)

check:  ## what CI runs after installing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
