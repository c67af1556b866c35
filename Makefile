# The README's two commands are `make demo` and `make test`; both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-postgres lint bench install install-dev browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

# The main job on the embedded default: the whole workflow, on a server in a temporary home.
demo: install
	$(BIN)/sagelocal demo

# Browser tests drive Debian's Chromium (never a downloaded one): installed here when missing,
# where root and apt are at hand; elsewhere they are skipped (and fail under CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "chromium not found: install Debian's chromium to run the browser tests"; fi; }

# The whole test suite: lint, then unit and integration tests against real servers and clients.
test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

# The store and API tests again, every server's store in a PostgreSQL database of its own:
# $SAGELOCAL_TEST_POSTGRES names an administrator URL (.ci/run starts a private cluster for it).
PG_TESTS := tests/unit/test_store.py $(patsubst %,tests/integration/test_%.py,authentication billing \
  concurrent_updates durability endpoints iam_api iam_enforcement iam_login_profiles logs_api models_api \
  notebook_configs_api request_errors s3_boto3 s3_durability s3_errors s3_presigned sts \
  training_api transform)

test-postgres: install-dev
	@test -n "$$SAGELOCAL_TEST_POSTGRES" || \
	  { echo "set SAGELOCAL_TEST_POSTGRES to a PostgreSQL administrator URL" >&2; exit 2; }
	$(BIN)/pytest -q $(PG_TESTS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-dev
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
