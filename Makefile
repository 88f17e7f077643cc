# The README's two commands: `make demo` (run the embedded default) and `make test`.
# Both create .venv and install the pinned dependencies first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint rulegraph clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: $(STAMP)
	$(BIN)/snakemake --cores all

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules/*.smk

# Regenerates the rule graph shown in the README (a test checks that it is current).
rulegraph: $(STAMP)
	$(BIN)/snakemake --rulegraph mermaid-js --quiet all > workflow/report/rulegraph.mmd

clean:
	rm -rf results .snakemake
