# One entry point for every task. `make help` lists the targets.
# Everything runs inside a virtual environment (.venv) that `make setup` creates.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Data: downloaded into data/ on first use, or read from an existing copy.
export A2_DATA_DIR ?= $(CURDIR)/data
NAMES  ?=

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev report pdf chapter preview screenshots test test-fast lint format weights figures submission checkpoint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The Quarto that renders: QUARTO=... if given, else a new-enough `quarto` on the PATH, else
# pip's quarto-cli installed into the venv (see code/a2dl/quarto_choice.py). One line says which.
QUARTO ?=
export QUARTO
CHOOSE_QUARTO = $(PY) -m a2dl.quarto_choice --venv $(VENV)

$(VENV)/.report: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[notebook,dev]"
	touch $@ $(VENV)/.dev

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e ".[dev]"
	touch $@

setup: $(VENV)/.report  ## virtual environment with the package, Jupyter and test tools

setup-dev: $(VENV)/.dev  ## the same without Quarto (what CI installs)

report: $(VENV)/.report  ## render the report to _book/: the PDF and the HTML book
	@quarto=$$($(CHOOSE_QUARTO)) && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" QUARTO_PYTHON="$(CURDIR)/$(PY)" "$$quarto" render

pdf: $(VENV)/.report  ## render the PDF alone (_book/assignment2-report.pdf)
	@quarto=$$($(CHOOSE_QUARTO)) && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" QUARTO_PYTHON="$(CURDIR)/$(PY)" "$$quarto" render --to typst

chapter: $(VENV)/.report  ## re-render one chapter: make chapter CHAPTER=chapters/03-self-attention.qmd
	@test -n "$(CHAPTER)" || { echo "usage: make chapter CHAPTER=chapters/<file>.qmd" >&2; exit 2; }
	@quarto=$$($(CHOOSE_QUARTO)) && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" QUARTO_PYTHON="$(CURDIR)/$(PY)" "$$quarto" render "$(CHAPTER)"

preview: $(VENV)/.report  ## the HTML book with live reload while writing (from _freeze/)
	@quarto=$$($(CHOOSE_QUARTO)) && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" QUARTO_PYTHON="$(CURDIR)/$(PY)" "$$quarto" preview --to html

screenshots: ## PNGs of the HTML book in headless Chromium (after make report): build/screenshots/
	bash scripts/screenshots.sh

test: $(VENV)/.dev  ## unit tests and every chapter executed in a fresh kernel
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m pytest

test-fast: $(VENV)/.dev  ## the unit tests alone, without executing the chapters (minutes)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m pytest -m "not slow"

lint: $(VENV)/.dev  ## ruff lint and format check
	$(BIN)/ruff check code tests
	$(BIN)/ruff format --check code tests

format: $(VENV)/.dev  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix code tests
	$(BIN)/ruff format code tests

figures: $(VENV)/.dev  ## every report figure as a vector file: figures/<label>.svg
	$(PY) -m a2dl figures

weights: $(VENV)/.dev  ## retrain every shipped model (long: see README)
	$(PY) -m a2dl train all
	$(PY) -m a2dl bench vision --threads 2  # the report compares speeds on two threads

submission: $(VENV)/.dev  ## course archive: make submission NAMES=ubit1_ubit2
	$(PY) -m a2dl submission $(if $(NAMES),--names $(NAMES))

checkpoint: $(VENV)/.dev  ## checkpoint archive (Parts I-III): make checkpoint NAMES=ubit1_ubit2
	$(PY) -m a2dl checkpoint $(if $(NAMES),--names $(NAMES))

clean:  ## remove rendered output and caches (keeps data/ and .venv/)
	rm -rf _book _freeze .cache .quarto .pytest_cache .ruff_cache
