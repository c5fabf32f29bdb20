# Slipway — build, run and test. See docs/contributing.md.
#
#   make start        install what is missing, build, serve on 127.0.0.1:8000 (data in ./.data)
#   make test         everything CI runs (needs root: packages, test users, Slurm, PostgreSQL)
#   make check        typecheck, lint, format check, unit tests
#   make slurm-up     start the single-host Slurm test cluster (make slurm-down stops it)
#   make idp-up       start a test OpenID provider on 127.0.0.1:9000 for examples/oidc.yaml, in the
#                     background; prints its accounts (make idp-down stops it)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Several targets install packages or run npm ci; they must never run at the same time.
.NOTPARALLEL:

DATA_DIR ?= ./.data
SERVE_ARGS ?=
CHROMIUM_PATH ?= /usr/bin/chromium
STAGE_DIR ?= $(or $(SLIPWAY_TEST_STAGE_DIR),/opt/slipway-test)
IDP_PORT ?= 9000

.PHONY: help deps deps-test build start check test test-users stage slurm-up slurm-down idp-up idp-down bench clean

help:
	@echo "make start | build | check | test | slurm-up | slurm-down | idp-up | idp-down | bench | clean"
	@echo "see docs/contributing.md"

deps:
	@scripts/install-deps.sh runtime

deps-test:
	@scripts/install-deps.sh test

build: deps
	@npm run --silent build

start: build
	node dist/src/cli.js serve --data-dir $(DATA_DIR) $(SERVE_ARGS)

check: deps
	@npm run --silent check

test-users:
	@scripts/test-users.sh

slurm-up: deps-test test-users
	@scripts/slurm-up.sh

slurm-down:
	@scripts/slurm-down.sh

# Idempotent: when the provider already runs, prints its issuer and accounts again.
idp-up: deps
	@node --import tsx scripts/test-idp.ts --detach --port $(IDP_PORT)

idp-down:
	@node --import tsx scripts/test-idp.ts --stop

stage: build
	@scripts/stage-world-readable.sh $(STAGE_DIR) >/dev/null

# Sets up the machine (idempotent, fast when already done), then runs every suite even when an
# earlier one fails, and fails if any did.
test: deps-test test-users slurm-up build
	@pg_url="$$(scripts/pg-test-up.sh | tail -n 1)"; \
	stage_dir="$$(scripts/stage-world-readable.sh $(STAGE_DIR))"; \
	export SLIPWAY_TEST_PG_URL="$$pg_url" SLIPWAY_TEST_STAGE_DIR="$$stage_dir" \
	  SLIPWAY_TEST_SLURM=1 CHROMIUM_PATH="$(CHROMIUM_PATH)"; \
	rm -rf .test-logs; \
	suites=(check test:integration test:browser test:logs); \
	failed=(); \
	for suite in "$${suites[@]}"; do \
	  echo "==> npm run $$suite"; \
	  npm run --silent "$$suite" || failed+=("$$suite"); \
	done; \
	if [[ -n "$$(find python -name 'test_*.py' -print -quit 2>/dev/null)" ]]; then \
	  echo "==> pytest python"; \
	  python3 -m pytest -q python || failed+=(pytest); \
	fi; \
	if (( $${#failed[@]} > 0 )); then \
	  echo "make test: FAILED: $${failed[*]}" >&2; \
	  exit 1; \
	fi; \
	echo "make test: all suites passed"

bench: build
	node --import tsx bench/run.ts

clean:
	rm -rf dist coverage .test-logs
