# leadscore: `make test` and `make bench` work on a fresh machine with only Python 3.11 and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint bench rules-check browser clean run demo package deploy destroy secrets

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip>=23,<26.3"  # chalice 1.34 packages with pip < 26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --editable .  # the `leadscore` command
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

rules-check: $(STAMP)
	$(PY) -m chalicelib.cli rules validate chalicelib/rules/default.yaml

# The console's browser tests need Chromium and its driver from the OS packages.
browser:
	bash scripts/ensure_browser.sh

test: lint rules-check browser
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis out .chalice/deployments

# Data is saved on stop and restored on start (.make-run-state.json); RESET=1 starts empty.
run: $(STAMP)
	$(PY) -m local.run $(if $(filter 1 yes true,$(RESET)),--reset)

demo: $(STAMP)
	$(PY) -m local.demo

# ---------------------------------------------------------------------------- deploy to AWS
STAGE ?= dev
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)

# The real `chalice package` merged with infra/resources.yaml (plus precompiled bytecode: see
# infra/package.py), linted, and the zip measured.
package: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.package --stage $(STAGE) --out out/$(STAGE)
	$(VENV)/bin/cfn-lint out/$(STAGE)/sam.yaml
	$(PY) -m infra.bundle out/$(STAGE)/deployment.zip

# Credentials and region are checked before packaging; the change set is shown and asked about
# (YES=1 skips the question, as in CI), the stack's events follow, the outputs end it.
deploy: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.deploy preflight --stage $(STAGE)
	$(MAKE) --no-print-directory package STAGE=$(STAGE)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.deploy deploy --stage $(STAGE) $(if $(YES),--yes)

# Asks you to type the stage's name (YES=1 does not); the table is kept.
destroy: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.deploy destroy --stage $(STAGE) $(if $(YES),--yes)

# Stores the secrets set in your shell (HUBSPOT_CLIENT_SECRET=... make secrets) as SecureStrings.
secrets: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.secrets --stage $(STAGE)
