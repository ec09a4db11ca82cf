# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB := build/prestatieafspraken.db
HOST ?= 127.0.0.1
PORT ?= 8001
CSVS := $(wildcard csv/*.csv)
# What csv/ holds, recorded: deleting (or adding) a file changes this list, so the database is
# rebuilt and the loader refuses a table that is gone, instead of make keeping the old database.
# Rewritten only when the list differs, so `make build` stays a no-op when nothing changed.
INPUTS := build/.csv-files

.PHONY: install validate build serve test check lint docs clean FORCE

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

validate: $(STAMP)
	$(BIN)/prestatieafspraken validate

$(INPUTS): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach f,$(sort $(wildcard csv/*)),'$(subst ','\'',$(f))') >$@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(DB): $(STAMP) datapackage.yaml $(wildcard publication.yaml LICENSE-DATA.md) loaders/views.yaml $(CSVS) $(INPUTS) $(wildcard loaders/*.py)
	$(BIN)/prestatieafspraken build --output $(DB)

build: $(DB)

serve: $(DB)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/prestatieafspraken serve --db $(DB)

docs: $(STAMP)
	$(BIN)/prestatieafspraken docs

lint: $(STAMP)
	$(BIN)/ruff check loaders plugins tests bench

test: $(STAMP)
	$(BIN)/ruff check loaders plugins tests bench
	$(BIN)/frictionless validate datapackage.yaml
	$(BIN)/prestatieafspraken build --output $(DB)
	$(BIN)/python -m pytest -q

# The quick tier (under a minute): lint, validate, build, and every page kind through the test client.
check: $(STAMP)
	$(BIN)/ruff check loaders plugins tests bench
	$(BIN)/frictionless validate datapackage.yaml
	$(BIN)/prestatieafspraken build --output $(DB)
	$(BIN)/python -m pytest -q -m smoke

clean:
	rm -rf build .pytest_cache

# Benchmarks and load test (not part of `make test`, except bench-smoke: tests/test_bench_smoke.py runs it);
# see bench/results.md and bench/loadtest.md.
.PHONY: bench bench-tools bench-quick bench-smoke bench-build loadtest

# wrk and nginx come from Debian; installed here when missing so `make bench` works on a fresh machine.
bench-tools:
	@command -v wrk >/dev/null && command -v nginx >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null; }

bench: $(STAMP) bench-tools
	timeout 2400 $(BIN)/python -m bench.run

bench-quick: $(STAMP) bench-tools
	timeout 900 $(BIN)/python -m bench.run --quick

# Scale 2 in a temporary folder, seconds: generate, build, baseline (no wrk or nginx needed).
bench-smoke: $(STAMP)
	timeout 300 $(BIN)/python -m bench.run --smoke

# The build step with sqlite-utils against the hand-written loader it replaced, scale 100, into results.md.
bench-build: $(STAMP)
	timeout 900 $(BIN)/python -m bench.build_compare --scale 100

loadtest: $(DB) bench-tools
	timeout 300 $(BIN)/python -m bench.loadtest --db $(DB) --connections 64 --seconds 60
