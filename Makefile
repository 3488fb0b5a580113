# tenantstack developer entry points. `make help` lists them.
#
# Two venvs, one per engine (docs/engines.md; docs/architecture.md, "Two virtual environments"):
#   .venv-cfngin  Python 3.12 (3.11 if 3.12 is missing), the supported path: runway's CFNgin + the
#                 project, and the moto server (local AWS endpoint), cfn-lint, checkov, parliament,
#                 hadolint, pytest, pip-audit (requirements/cfngin.txt)
#   .venv         Python 3.9 (end of life, October 2025): stacker 1.7.2 + the project
#                 (requirements/project.txt; stacker needs 3.9: collections.Mapping)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON39 ?=
PYTHON312 ?=
ENDPOINT_PORT ?= 5000
PYTEST_ARGS ?=

VENV := .venv
CFNGIN := .venv-cfngin
RUN := .run
VENV_STAMP := $(VENV)/.installed
CFNGIN_STAMP := $(CFNGIN)/.installed
NODE_DIR := tests/security/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
PIP_FLAGS := --disable-pip-version-check -q
SETUP_FILES := $(wildcard setup.py setup.cfg pyproject.toml)

# A venv whose interpreter no longer runs (e.g. its base Python was removed) is rebuilt,
# whatever its stamp says.
VENV_BROKEN := $(shell $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' >/dev/null 2>&1 || echo yes)
CFNGIN_BROKEN := $(shell $(CFNGIN)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 12), (3, 11)))' >/dev/null 2>&1 || echo yes)

.PHONY: help setup test-setup endpoint-start endpoint-stop test templates goldens demo clean FORCE

help:
	@echo "tenantstack make targets:"
	@echo "  setup           create .venv-cfngin (Python 3.12: CFNgin + project, moto, scanners, pip-audit) and"
	@echo "                  .venv (Python 3.9: stacker 1.7.2 + project)"
	@echo "  test-setup      setup, plus what only the tests need: the npm IAM evaluator, Debian nginx/php-fpm/mariadb"
	@echo "                  (found by scripts/find-python312 and scripts/find-python39; override:"
	@echo "                  make setup PYTHON312=/path PYTHON39=/path)"
	@echo "  test            run pytest on CFNgin, then stacker's share of it (args: PYTEST_ARGS='-k name -x')"
	@echo "  gates           run only the security gates (tests/security: cfn-lint, checkov, parliament, isolation, no secret)"
	@echo "  templates       render the CloudFormation templates (tenantstack render)"
	@echo "  goldens         rewrite the blueprint golden files (review the diff before committing)"
	@echo "  demo            run scripts/demo.py against a local endpoint (CFNgin; demo-stacker: on stacker)"
	@echo "  audit           pip-audit both venvs' pinned requirements (lint/allowlist.yaml, pip-audit:)"
	@echo "  bench           run the benchmarks, print the table, rewrite docs/performance.md (args: BENCH_ARGS='--smoke --output /tmp/p.md')"
	@echo "  endpoint-start  start the local AWS endpoint (moto server) on 127.0.0.1:\$$ENDPOINT_PORT (default 5000)"
	@echo "  endpoint-stop   stop it"
	@echo "  clean           remove .venv-cfngin .venv .run"

setup: $(CFNGIN_STAMP) $(VENV_STAMP)

# The supported venv alone: what a deploy needs (buildspecs/deploy.yml).
.PHONY: setup-cfngin
setup-cfngin: $(CFNGIN_STAMP)

# What only the tests need on top (the deploy buildspec runs `make setup` alone).
test-setup: setup $(NODE_STAMP)

$(VENV_STAMP): requirements/project.txt $(SETUP_FILES) $(if $(VENV_BROKEN),FORCE)
	@set -e; \
	if ! $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' >/dev/null 2>&1; then \
		py=$$(PYTHON39="$(PYTHON39)" scripts/find-python39); \
		echo "creating $(VENV) with $$py"; \
		rm -rf $(VENV); \
		"$$py" -m venv $(VENV); \
	fi; \
	echo "installing requirements/project.txt and the project into $(VENV)"; \
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements/project.txt; \
	$(VENV)/bin/pip install $(PIP_FLAGS) --no-deps -e .; \
	touch $@

$(CFNGIN_STAMP): requirements/cfngin.txt $(SETUP_FILES) $(if $(CFNGIN_BROKEN),FORCE)
	@set -e; \
	if ! $(CFNGIN)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 12), (3, 11)))' >/dev/null 2>&1; then \
		py=$$(PYTHON312="$(PYTHON312)" scripts/find-python312); \
		echo "creating $(CFNGIN) with $$py"; \
		rm -rf $(CFNGIN); \
		"$$py" -m venv $(CFNGIN); \
	fi; \
	echo "installing requirements/cfngin.txt and the project into $(CFNGIN)"; \
	$(CFNGIN)/bin/pip install $(PIP_FLAGS) -r requirements/cfngin.txt; \
	$(CFNGIN)/bin/pip install $(PIP_FLAGS) --no-deps -e .; \
	touch $@

# The security gates' second IAM evaluator (tests/security/crosscheck.py, docs/security.md):
# exactly the npm packages its package-lock.json pins (npm ci), test-only, never distributed.
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@set -e; \
	if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' >/dev/null 2>&1; then \
		echo "Node.js 20 or later (node and npm on PATH) is needed for $(NODE_DIR)" >&2; exit 1; \
	fi; \
	echo "installing $(NODE_DIR) (npm ci)"; \
	(cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error); \
	touch $@

# Debian packages tests/app run natively (nginx, php-fpm, php-cli, php-mysql, mariadb-server):
# scripts/install-system-packages installs what is missing (as root) and starts no service.
# A package removed since the stamp was made makes the stamp stale.
SYSTEM_STAMP := $(RUN)/system-packages.installed
SYSTEM_MISSING := $(shell scripts/install-system-packages --check >/dev/null 2>&1 || echo yes)
test-setup: $(SYSTEM_STAMP)

$(SYSTEM_STAMP): scripts/install-system-packages $(if $(SYSTEM_MISSING),FORCE)
	@mkdir -p $(RUN)
	@scripts/install-system-packages
	@touch $@

FORCE:

endpoint-start: setup
	$(CFNGIN)/bin/python scripts/local_endpoint.py start --port $(ENDPOINT_PORT) \
		--pidfile $(RUN)/endpoint.pid --log $(RUN)/endpoint.log

endpoint-stop: setup
	$(CFNGIN)/bin/python scripts/local_endpoint.py stop --pidfile $(RUN)/endpoint.pid

# stacker and CFNgin poll stack status every 30 s unless told otherwise, each through its own
# variable (docs/engines.md, "What differs").
test demo demo-stacker: export STACKER_STACK_POLL_TIME = 0
test demo demo-stacker: export CFNGIN_STACK_POLL_TIME = 0

test: test-setup
	scripts/run-tests $(PYTEST_ARGS)

# The security gates alone (they also run in `make test`): docs/security.md.
.PHONY: gates
gates: test-setup
	CFNGIN_STACK_POLL_TIME=0 scripts/run-tests --engines cfngin tests/security $(PYTEST_ARGS)

# The dependency audit alone (it also runs in `make test` and `make gates`): docs/security.md.
.PHONY: audit
audit: setup
	scripts/run-tests --engines cfngin tests/security/test_dependency_audit.py $(PYTEST_ARGS)

templates: setup
	$(CFNGIN)/bin/tenantstack render
	$(CFNGIN)/bin/python -m hooks.engine.runway_layout

goldens: setup
	UPDATE_GOLDENS=1 $(CFNGIN)/bin/python -m pytest -q tests/blueprints

demo: setup
	$(CFNGIN)/bin/python scripts/demo.py

# The same demo with stacker 1.7.2 on Python 3.9 (`stacker build`).
.PHONY: demo-stacker
demo-stacker: setup
	$(VENV)/bin/python scripts/demo.py

# Benchmarks (bench/, docs/performance.md): not tests; nothing here runs in `make test`.
.PHONY: bench
BENCH_ARGS ?=
bench: setup
	STACKER_STACK_POLL_TIME=0 $(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(CFNGIN) $(VENV) $(RUN)
