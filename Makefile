# Two commands: `make demo` (the instructor pipeline end to end) and `make test`.
# Each bootstraps .venv on first use; every recipe runs with .venv/bin first on
# PATH because nbgrader shells out to `alembic` and `jupyter`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
export MPLBACKEND := Agg

NBVAL := pytest -p no:cacheprovider --nbval --nbval-current-env --nbval-sanitize-with lectures/nbval_sanitize.cfg

.PHONY: all venv test demo lab lectures release clean

all: test

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]' --config-settings editable_mode=compat
	touch $@

test: $(STAMP)
	bash scripts/install_bubblewrap.sh
	bash scripts/install_chromium.sh
	bash scripts/install_postgres.sh
	pytest -p no:cacheprovider tests
	$(NBVAL) lectures solutions
	pytest -p no:cacheprovider --nbval-lax --nbval-current-env exercises

demo: $(STAMP)
	bash scripts/install_bubblewrap.sh
	$(BIN)/python -m autograder demo

lab: $(STAMP)
	jupyter lab --notebook-dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root)

# Re-execute the lecture notebooks in place (outputs are committed; nbval compares them).
lectures: $(STAMP)
	$(BIN)/python scripts/execute_lectures.py lectures/*.ipynb

release: $(STAMP)
	$(BIN)/python -m autograder release

clean:
	rm -rf $(VENV) dist .pytest_cache
