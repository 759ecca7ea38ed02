# Sales Office Portal — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export FLASK_APP := wsgi:app

.PHONY: run test screenshots js-deps venv system-deps translations db demo clean lint lock bench bench-quick bench-live bench-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamp file: reinstall only when pyproject.toml or the lock changes. Every package (direct,
# transitive, the test extra) comes from requirements.lock, pinned and checked by its sha256;
# the portal itself is installed on top without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Re-resolve requirements.lock after changing a pin in pyproject.toml (README "Dependencies").
# pip-tools runs from a throwaway venv, never from .venv; tests/test_dependencies.py checks the result.
LOCK_VENV ?= $(or $(TMPDIR),/tmp)/portal-pip-tools
lock:
	[ -x $(LOCK_VENV)/bin/pip-compile ] || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install -q pip-tools==7.6.2; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile -q --generate-hashes --extra test --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o requirements.lock pyproject.toml

venv: $(VENV)/.installed

# Debian packages the tests need: Chromium for the browser tests, poppler for PDFs,
# a CJK TrueType font to embed in PDFs and to render Chinese in screenshots.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null \
	    || [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium poppler-utils fonts-wqy-microhei fonts-noto-cjk >/dev/null; \
	  else echo "Install as root: chromium poppler-utils fonts-wqy-microhei fonts-noto-cjk"; fi; \
	fi

translations: venv
	$(BIN)/pybabel -q compile -d portal/translations

db: venv translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty

# The job queue's worker (notifications) runs next to gunicorn and stops with it.
run: db
	$(BIN)/flask jobs worker & trap 'kill $$!' EXIT INT TERM; \
	$(BIN)/gunicorn -w 2 -b 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# axe-core for the accessibility tests, pinned by tests/js/package-lock.json.
js-deps:
	cd tests/js && npm ci --no-audit --no-fund --silent

# Two processes (pytest-xdist), one per core, each with its own database; a file's tests stay in
# one process so module fixtures are built once. The files keep the order tests/conftest.py gives
# them (browser and server files first), not xdist's largest-file-first, which left the longest
# browser files for the end. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: venv translations system-deps js-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The same suite, saving every browser test's screenshots under artifacts/screenshots/.
screenshots:
	$(MAKE) test PORTAL_TEST_SCREENSHOTS=1

# Static checks: ruff (config in pyproject.toml), the one-way import layers (import-linter,
# [tool.importlinter] in pyproject.toml) and Bandit, failing on high-severity findings.
lint: venv
	$(BIN)/ruff check portal tests
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r portal -lll

# Re-extract strings after changing them; then translate the new entries in the .po file.
extract: venv
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot portal
	$(BIN)/pybabel -q update -N -i portal/translations/messages.pot -d portal/translations

clean:
	rm -rf $(VENV) instance/*.db

# Benchmark (bench/run.py, README "Benchmark"): gunicorn + wrk on SQLite and PostgreSQL,
# the demo dataset and a generated one; results in bench/results/ (git-ignored).
bench-deps:
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "Install as root: apt-get install -y wrk"; exit 1; fi; }

bench: venv translations bench-deps
	$(BIN)/python bench/run.py --db sqlite postgres --dataset demo large --sites 200 --days 365 --duration 10 $(BENCH_ARGS)

# The live-day scenario (bench/liveday.py): writers and 20 readers at once, 5 and 2 workers.
LIVE_ARGS ?=
bench-quick: venv translations bench-deps
	$(BIN)/python bench/run.py --db sqlite postgres --dataset demo large --sites 20 --days 30 --duration 5 $(BENCH_ARGS)
	$(BIN)/python bench/run.py --scenario live --db sqlite postgres --sites 20 --days 30 --duration 4 --warmup 2 $(LIVE_ARGS)

bench-live: venv translations
	$(BIN)/python bench/run.py --scenario live --db sqlite postgres --sites 200 --days 365 --duration 60 $(LIVE_ARGS)
