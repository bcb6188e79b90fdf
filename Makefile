# One command each, on a fresh machine with Python >= 3.11 and make:
#   make demo   builds the reference village (Tuomu) and prints its summary
#   make test   runs every test, PostgreSQL included (a throwaway server is started),
#               and the yearly report printed by headless Chromium (scripts/ensure-browser
#               installs chromium and a CJK font where missing, as root)
# Both create .venv and install the core, every plugin under plugins/ and the
# test tools first; the install is redone only when a pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///fupin-demo.db
# Who builds the demo (and becomes its administrator): fupin never guesses who acts.
DEMO_ACTOR ?= DEMO:admin
PYTEST_ARGS ?=

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGIN_DIRS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(addprefix -e ,$(PLUGIN_DIRS))
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fupin --db $(DEMO_DB) --as $(DEMO_ACTOR) demo --force

test: $(STAMP)
	scripts/ensure-browser
	scripts/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

# The import benchmark: a synthetic province (250,000 households) loaded by a raw
# loader and by `fupin import`, on SQLite and PostgreSQL; prints the ratios.
# Then the check benchmark: `fupin check` and `fupin visits due` against hand-written
# SQL on a province of 50,000 households (300,000 visits), SQLite and PostgreSQL, a
# few minutes (the full 250,000 households: benchmarks/check_bench.py without --households).
# Last the concurrency benchmark: one Store shared by 20 threads (mixed reads and small
# imports) against the same requests on one thread, SQLite and PostgreSQL, a few minutes.
CHECK_BENCH_HOUSEHOLDS ?= 50000
bench: $(STAMP)
	scripts/with-postgres sh -c '$(BIN)/python benchmarks/import_bench.py --postgres "$$FUPIN_TEST_POSTGRES_URL" --scales 25000,50000,100000; status=$$?; \
	  $(BIN)/python benchmarks/check_bench.py --households $(CHECK_BENCH_HOUSEHOLDS) --postgres "$$FUPIN_TEST_POSTGRES_URL" || status=$$?; \
	  $(BIN)/python benchmarks/concurrency_bench.py --postgres "$$FUPIN_TEST_POSTGRES_URL" || status=$$?; \
	  exit $$status'

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis fupin-demo.db
