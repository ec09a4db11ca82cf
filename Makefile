# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What `make build` makes: build/ holds the database (named in loaders/site.py), the data package zip and, written
# last, the site's generated metadata and inspect data; metadata.json stands for the whole folder.
SITE := build/metadata.json
HOST ?= 127.0.0.1
PORT ?= 8001
# pytest-xdist workers: most tests wait on a browser, a server or a subprocess, so one more than the cores.
TEST_WORKERS ?= 3
CSVS := $(wildcard csv/*.csv)
# What csv/ and queries/ hold, recorded: deleting (or adding) a file changes this list, so the site is
# rebuilt (the loader refuses a table that is gone; a deleted saved question leaves the metadata), instead of
# make keeping the old build.
# Rewritten only when the list differs, so `make build` stays a no-op when nothing changed.
INPUTS := build/.csv-files

.PHONY: install validate build serve test check lint docs clean FORCE

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.8
	# Bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set, every test process would otherwise compile
	# Datasette and its libraries from source again.
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test]'
	touch $(STAMP)

validate: $(STAMP)
	$(BIN)/prestatieafspraken validate

$(INPUTS): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach f,$(sort $(wildcard csv/* queries/* queries/parts/*)),'$(subst ','\'',$(f))') >$@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(SITE): $(STAMP) datapackage.yaml $(wildcard publication.yaml LICENSE-DATA.md metadata.yml queries/*.sql queries/parts/*.sql) \
		loaders/views.yaml loaders/aggregates.yaml $(CSVS) $(INPUTS) $(wildcard loaders/*.py)
	$(BIN)/prestatieafspraken build

build: $(SITE)

serve: $(SITE)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/prestatieafspraken serve

docs: $(STAMP)
	$(BIN)/prestatieafspraken docs

lint: $(STAMP)
	$(BIN)/ruff check --no-cache loaders plugins tests bench

test: $(STAMP)
	$(BIN)/ruff check --no-cache loaders plugins tests bench
	$(BIN)/frictionless validate datapackage.yaml
	$(BIN)/prestatieafspraken build
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not serial"
	$(BIN)/python -m pytest -q -m serial

# The quick tier (under a minute): lint, validate, build, and every page kind through the test client.
check: $(STAMP)
	$(BIN)/ruff check --no-cache loaders plugins tests bench
	$(BIN)/frictionless validate datapackage.yaml
	$(BIN)/prestatieafspraken build
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
	timeout 3600 $(BIN)/python -m bench.run

bench-quick: $(STAMP) bench-tools
	timeout 900 $(BIN)/python -m bench.run --quick

# Scale 2 in a temporary folder, seconds: generate, build, baseline (no wrk or nginx needed).
bench-smoke: $(STAMP)
	timeout 300 $(BIN)/python -m bench.run --smoke

# The build step with sqlite-utils against the hand-written loader it replaced, scale 100, into results.md.
bench-build: $(STAMP)
	timeout 900 $(BIN)/python -m bench.build_compare --scale 100

loadtest: $(SITE) bench-tools
	timeout 300 $(BIN)/python -m bench.loadtest --connections 64 --seconds 60
