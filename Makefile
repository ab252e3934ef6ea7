# The two commands users run are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help test fuzz lint format lock lock-check audit demo bench kafka-up kafka-down kafka-jars tools venv clean image deploy-tools trace-tools native-wheel

help:
	@echo "make test        run the test suite (starts its own Kafka broker)"
	@echo "make demo        end-to-end run on the local stack, with a summary"
	@echo "make lint        ruff, ruff format --check, mypy --strict, import contracts"
	@echo "make fuzz        the Hypothesis fuzz tests with many more examples"
	@echo "make lock        regenerate requirements.lock (hash-pinned runtime dependencies)"
	@echo "make audit       pip-audit over requirements.lock (says so when it cannot reach a database)"
	@echo "make bench       benchmarks (prints figures)"
	@echo "make kafka-up    start a local broker on 127.0.0.1:9092; make kafka-down stops it"
	@echo "make image       build the container image with buildah (no Docker daemon needed)"

venv: $(STAMP)

# The native core (native/, Rust) is built by maturin with cargo; cargo's target directory
# (native/target) keeps the compiled crates, so a rebuild after an edit takes seconds.
NATIVE_SOURCES := native/pyproject.toml native/Cargo.toml native/Cargo.lock $(wildcard native/src/*.rs) native/profile_sync_core.pyi

$(STAMP): pyproject.toml constraints.txt $(NATIVE_SOURCES)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed: set PYTHON=/path/to/python3.11")'
	@command -v cargo >/dev/null || { echo "cargo (Rust 1.88 or newer) is needed to build native/: https://rustup.rs"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	$(PY) -m pip install -q --force-reinstall --no-deps ./native
	touch $(STAMP)

# The native core's wheel for the image build (`make image` builds it before buildah).
native-wheel: $(STAMP)
	$(PY) devenv/image.py native-wheel

tools:
	@bash devenv/check-tools.sh

kafka-jars: $(STAMP) tools
	$(PY) devenv/kafka_local.py fetch
	$(PY) devenv/schema_registry.py fetch

# helm (built from the Go module proxy) and checkov (its own venv), cached like the jars.
deploy-tools: $(STAMP)
	$(PY) devenv/helm_tool.py fetch
	$(PY) devenv/checkov_tool.py fetch

# Jaeger (built from the Go module proxy, ~15 min cold), the tracing tests' backend.
trace-tools: $(STAMP)
	$(PY) devenv/jaeger_tool.py fetch

# The tools are fetched side by side: on a fresh machine the Go builds and the Maven downloads
# overlap instead of adding up.
test: $(STAMP)
	$(MAKE) --no-print-directory -j 3 kafka-jars deploy-tools trace-tools
	$(PY) -m pytest $(PYTEST_ARGS)

# The fuzz tests alone, with the "fuzz" Hypothesis profile (tests/conftest.py): many more examples.
fuzz: $(STAMP)
	$(PY) -m pytest -m fuzz --hypothesis-profile=fuzz $(PYTEST_ARGS)

# The image's install: `pip install --require-hashes -r requirements.lock`. Runtime dependencies
# only ([project] dependencies of pyproject.toml), at the versions pinned in constraints.txt.
LOCK_COMMAND := $(VENV)/bin/uv pip compile pyproject.toml --constraint constraints.txt \
	--generate-hashes --universal --python-version 3.11 --quiet \
	--custom-compile-command "make lock"

lock: $(STAMP)
	$(LOCK_COMMAND) --output-file requirements.lock

# CI (tests/test_supply_chain.py): the committed lock is what `make lock` generates today.
lock-check: $(STAMP)
	$(LOCK_COMMAND) --output-file $(VENV)/requirements.lock.check
	diff -u requirements.lock $(VENV)/requirements.lock.check

audit: $(STAMP)
	$(PY) devenv/audit_lock.py --lock requirements.lock

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict --explicit-package-bases devenv bench
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

demo: $(STAMP) kafka-jars
	$(PY) devenv/demo.py

# Each figure beside the same figure of the commit before (its consumer, from a git worktree).
BENCH_BASELINE ?= HEAD~1
bench: $(STAMP) kafka-jars trace-tools
	$(PY) bench/run_all.py --baseline $(BENCH_BASELINE)

kafka-up: $(STAMP) kafka-jars
	$(PY) devenv/kafka_local.py up

kafka-down: $(STAMP)
	$(PY) devenv/kafka_local.py down

clean:
	rm -rf $(VENV) .devenv .pytest_cache .mypy_cache .ruff_cache .hypothesis native/target native/dist

image: $(STAMP)
	$(PY) devenv/image.py build
