# The README's two commands: `make demo` (run the embedded default) and `make test`.
# Both create .venv and install the pinned dependencies first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Jobs run `python -m maskclr...`: put the environment's python first, as `activate` would.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test lint rulegraph readme readme-study report profiles gpu-check clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: $(STAMP)
	snakemake --cores all --rerun-incomplete

# tests/run-suite.sh: the SLURM tests run in a second pytest beside the rest (they mostly wait).
test: $(STAMP)
	bash tests/run-suite.sh

lint: $(STAMP)
	snakemake --lint
	snakefmt --check Snakefile workflow/rules/*.smk
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks

# Regenerates the rule graph shown in the README (a test checks that it is current).
rulegraph: $(STAMP)
	snakemake --nolock --rulegraph mermaid-js --quiet all > workflow/report/rulegraph.mmd
	python -m maskclr.paper.readme --section rulegraph=workflow/report/rulegraph.mmd

# Copies the demo's results into README.md (after `make demo`); the figures are committed beside it.
readme: $(STAMP)
	cp results/figures/fig5.png workflow/report/readme_fig5.png
	cp results/figures/classes.png workflow/report/readme_classes.png
	cp results/figures/confusion.png workflow/report/readme_confusion.png
	python -m maskclr.paper.readme --section table1=results/tables/table1.csv \
		--section summary=results/tables/robustness_summary.md --section fig5=workflow/report/readme_fig5.png \
		--section classes=workflow/report/readme_classes.png --section spread=results/tables/activation_spread.csv \
		--section errors=results/tables/error_flow.md --section confusion=workflow/report/readme_confusion.png \
		--section by_model=results/tables/robustness_by_model.md --section noise=results/tables/noise.md \
		--section occlusion=results/tables/occlusion.md

# After a run of workflow/configs/synth-study-2d-$(STUDY_SPLIT).yaml (README, "The full synthetic
# study"): its every-model table into README.md's section of that split, if it holds that split's
# models and no other's.
STUDY_SPLIT ?= xsub
BY_MODEL := results/tables/robustness_by_model.md
readme-study: $(STAMP)
	@found=$$(grep -soiE "synth x[a-z]+" $(BY_MODEL) | cut -c7- | tr A-Z a-z | sort -u | paste -sd' '); \
	[ "$$found" = "$(STUDY_SPLIT)" ] || { echo "$(BY_MODEL) holds models of $${found:-no split}; the \
	$(STUDY_SPLIT) section takes $(STUDY_SPLIT) alone: run workflow/configs/synth-study-2d-$(STUDY_SPLIT).yaml first" >&2; \
	exit 1; }
	python -m maskclr.paper.readme --section study_by_model_$(STUDY_SPLIT)=$(BY_MODEL)

# The Snakemake report of the last run: every table and figure with its caption.
report: $(STAMP)
	snakemake --report results/report.html

# Makes `snakemake --profile slurm` (and `--profile local`) work from any directory: Snakemake
# looks for named profiles in ~/.config/snakemake/. A profile of that name that is not ours is
# the user's own: it is left alone and the target fails (then use --workflow-profile, README).
profiles:
	@mkdir -p "$(HOME)/.config/snakemake"; refused=0; \
	for name in slurm local; do \
		link="$(HOME)/.config/snakemake/$$name"; ours="$(abspath workflow/profiles)/$$name"; \
		if [ "$$(readlink "$$link")" = "$$ours" ]; then echo "$$link: already links to $$ours"; \
		elif [ -e "$$link" ] || [ -L "$$link" ]; then refused=1; \
			echo "$$link exists and is not this project's profile: left as it is. Use" \
				"'snakemake --workflow-profile $$ours' (with or without your own --profile)." >&2; \
		else ln -s "$$ours" "$$link" && echo "$$link -> $$ours"; fi; \
	done; exit $$refused

# The GPU check (benchmarks/gpu_check.py): one CUDA GPU, <= 8 minutes, only torch, numpy and h5py
# needed, so no .venv set-up: it runs the first python3 on PATH (.venv's when there is one), or
# GPU_PYTHON. Writes results/gpu_check.json and prints its tables. SMOKE=1: the CPU version.
GPU_PYTHON ?= python3
gpu-check:
	mkdir -p results
	PYTHONPATH=src $(GPU_PYTHON) benchmarks/gpu_check.py $(if $(SMOKE),--smoke) --out results/gpu_check.json

# Deletes what a run made; keeps .venv, resources/downloads/ and the conda environments that
# --sdm conda built (.snakemake/conda: slow to build; delete that folder yourself to rebuild).
clean:
	@echo "Deleting results/: every output, log and audit record, and the resumable state of"
	@echo "unfinished trainings (results/work/). Deleting .snakemake/ except conda/: Snakemake's"
	@echo "job metadata (the audit reads it), locks, incomplete markers and SLURM logs."
	@echo "Keeping .venv, resources/downloads/ and .snakemake/conda/ (the rules' conda environments)."
	rm -rf results
	[ ! -d .snakemake ] || find .snakemake -mindepth 1 -maxdepth 1 ! -name conda -exec rm -rf {} +
