# The README's two commands are `make demo` and `make test`; both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

# The main job on the embedded default: a server in a temporary home, driven by unchanged boto3.
demo: install
	$(BIN)/sagelocal smoke

# The whole test suite: lint, then unit and integration tests against real servers and clients.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-dev
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
