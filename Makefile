# Billow developer entry points. Both targets create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint venv clean bench reliability

$(BASE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(BASE)

# The test tools; Debian packages first (libvirt-python builds against libvirt-dev).
$(DEV): pyproject.toml
	scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(BASE) $(DEV)

venv: $(DEV)

demo: $(BASE)
	$(BIN)/billow demo

test: $(DEV)
	scripts/test.sh

lint: $(DEV)
	scripts/test.sh lint

# The standing security and reliability suite (under 10 minutes; see scripts/reliability.sh).
reliability: $(DEV)
	BILLOW_PYTHON=$(BIN)/python scripts/reliability.sh

bench: $(DEV)
	$(BIN)/python bench/ledger_post.py
	$(BIN)/python bench/billing_run.py

clean:
	rm -rf $(VENV) var build *.egg-info
