# tenantstack developer entry points. `make help` lists them.
#
# Two venvs (docs/architecture.md, "Two virtual environments"):
#   .venv   Python 3.9: stacker 1.7.2 + the project (stacker needs 3.9: collections.Mapping)
#   .tools  the machine's python3: moto server (local AWS endpoint), checkov, parliament

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON39 ?=
TOOLS_PYTHON ?= python3
ENDPOINT_PORT ?= 5000
PYTEST_ARGS ?=

VENV := .venv
TOOLS := .tools
RUN := .run
VENV_STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
NODE_DIR := tests/security/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
PIP_FLAGS := --disable-pip-version-check -q
SETUP_FILES := $(wildcard setup.py setup.cfg pyproject.toml)

# A venv whose interpreter no longer runs (e.g. its base Python was removed) is rebuilt,
# whatever its stamp says.
VENV_BROKEN := $(shell $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' >/dev/null 2>&1 || echo yes)
TOOLS_BROKEN := $(shell $(TOOLS)/bin/python -c '' >/dev/null 2>&1 || echo yes)

.PHONY: help setup test-setup endpoint-start endpoint-stop test templates goldens demo clean FORCE

help:
	@echo "tenantstack make targets:"
	@echo "  setup           create .venv (Python 3.9, stacker + project) and .tools (moto, checkov, parliament)"
	@echo "  test-setup      setup, plus what only the tests need: the npm IAM evaluator, Debian nginx/php-fpm/mariadb"
	@echo "                  (Python 3.9 is found by scripts/find-python39; override: make setup PYTHON39=/path)"
	@echo "  test            run pytest (args: PYTEST_ARGS='-k name -x')"
	@echo "  gates           run only the security gates (tests/security: cfn-lint, checkov, parliament, isolation, no secret)"
	@echo "  templates       render the CloudFormation templates (tenantstack render)"
	@echo "  goldens         rewrite the blueprint golden files (review the diff before committing)"
	@echo "  demo            run scripts/demo.py against a local endpoint"
	@echo "  bench           run the benchmarks, print the table, rewrite docs/performance.md (args: BENCH_ARGS='--smoke --output /tmp/p.md')"
	@echo "  endpoint-start  start the local AWS endpoint (moto server) on 127.0.0.1:\$$ENDPOINT_PORT (default 5000)"
	@echo "  endpoint-stop   stop it"
	@echo "  clean           remove .venv .tools .run"

setup: $(VENV_STAMP) $(TOOLS_STAMP)

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

$(TOOLS_STAMP): requirements/tools.txt $(if $(TOOLS_BROKEN),FORCE)
	@set -e; \
	if ! $(TOOLS)/bin/python -c '' >/dev/null 2>&1; then \
		echo "creating $(TOOLS) with $(TOOLS_PYTHON)"; \
		rm -rf $(TOOLS); \
		$(TOOLS_PYTHON) -m venv $(TOOLS); \
	fi; \
	echo "installing requirements/tools.txt into $(TOOLS)"; \
	$(TOOLS)/bin/pip install $(PIP_FLAGS) -r requirements/tools.txt; \
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
	$(TOOLS)/bin/python scripts/local_endpoint.py start --port $(ENDPOINT_PORT) \
		--pidfile $(RUN)/endpoint.pid --log $(RUN)/endpoint.log

endpoint-stop: setup
	$(TOOLS)/bin/python scripts/local_endpoint.py stop --pidfile $(RUN)/endpoint.pid

# stacker polls stack status every 30 s unless told otherwise (docs/architecture.md, "Traps").
test demo: export STACKER_STACK_POLL_TIME = 0

test: test-setup
	scripts/run-tests $(PYTEST_ARGS)

# The security gates alone (they also run in `make test`): docs/security.md.
.PHONY: gates
gates: test-setup
	STACKER_STACK_POLL_TIME=0 scripts/run-tests tests/security $(PYTEST_ARGS)

templates: setup
	$(VENV)/bin/tenantstack render

goldens: setup
	UPDATE_GOLDENS=1 $(VENV)/bin/python -m pytest -q tests/blueprints

demo: setup
	$(VENV)/bin/python scripts/demo.py

# Benchmarks (bench/, docs/performance.md): not tests; nothing here runs in `make test`.
.PHONY: bench
BENCH_ARGS ?=
bench: setup
	STACKER_STACK_POLL_TIME=0 $(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) $(RUN)
