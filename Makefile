# Two commands do everything: `make demo` (the main job) and `make test` (every test).
# Both create .venv and install what is missing on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.smartgrid-installed
# Spark's JVM packages (Delta, the Kafka connector), resolved once into a git-ignored folder.
JARS := .spark-jars/manifest.json
# Apache ECharts, pinned and sha512-verified, inlined into the dashboard (dashboard/vendor.py).
ECHARTS := dashboard/vendor/.fetched

# dbt run from this directory finds profiles.yml here (written by setup from profiles.example.yml).
export DBT_PROFILES_DIR ?= $(CURDIR)
export SMARTGRID_LAKE ?= $(CURDIR)/lake

# The secret scan (detect-secrets, its settings and custom plugins in .secrets.baseline): every
# file git tracks or would track; a finding not in the baseline fails. `git ls-files` also
# refuses to run outside a git checkout, so the scan cannot pass by scanning nothing.
KEY_SCAN = git ls-files -z --cached --others --exclude-standard >/dev/null && \
	git ls-files -z --cached --others --exclude-standard | \
	xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline

.PHONY: setup demo test lint format bench clean help secret-scan secrets-baseline

help:
	@echo "make demo   run the main job (produce -> ingest -> dbt -> CSV -> dashboard)"
	@echo "make test   run every test (lint, import floors, sqlfluff, pytest)"
	@echo "make setup  create .venv, install the pinned stack, resolve Spark's JVM packages"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make secrets-baseline  refresh .secrets.baseline after reviewing a false positive"

setup: $(STAMP) $(JARS) $(ECHARTS)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "error: Python 3.10+ is needed, found " + sys.version.split()[0])'
	@$(PYTHON) -m smartgrid.java
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned stack into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,azure,kafka,dev]'
	@$(BIN)/python -m smartgrid.bootstrap
	@touch $@

# Re-resolved when the package coordinates change (smartgrid/jars.py); otherwise only the
# logging configuration is refreshed.
$(JARS): $(STAMP) smartgrid/jars.py smartgrid/log4j2.properties
	@$(BIN)/python -m smartgrid.jars

$(ECHARTS): dashboard/vendor.py | $(STAMP)
	@$(BIN)/python -m dashboard.vendor

demo: setup
	$(BIN)/smartgrid demo

test: setup
	@$(MAKE) --no-print-directory secret-scan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	sh scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

secret-scan:
	@$(KEY_SCAN) && echo "secret scan: clean"

# After a reviewed false positive: refresh the baseline (keeps its plugins and exclusions).
secrets-baseline: setup
	$(BIN)/detect-secrets scan --baseline .secrets.baseline

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf lake target logs .pytest_cache .hypothesis
# .spark-jars/ stays: `rm -rf .spark-jars` and `make setup` resolve the JVM packages again.
