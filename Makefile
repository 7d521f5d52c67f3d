# Billow developer entry points. Both targets create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/billow demo

test: $(STAMP)
	scripts/test.sh

lint: $(STAMP)
	scripts/test.sh lint

bench: $(STAMP)
	$(BIN)/python bench/ledger_post.py

clean:
	rm -rf $(VENV) var build *.egg-info
