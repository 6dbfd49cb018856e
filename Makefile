# The three commands of the README. Everything else is `kunnskapsgrunnlag --help`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
KG     := $(VENV)/bin/kunnskapsgrunnlag
# The offline mirror: default `defaults.mirror` of config/project.yml (../shared/data); MIRROR=/path overrides it.
MIRROR ?=
MIRROR_OPT := $(if $(MIRROR),--mirror $(MIRROR))
JOBS   ?= 2
# Configuration: make report REGION=40 EDITION=2025 (default: config/project.yml `defaults`)
REGION ?=
EDITION ?=
CONFIG := $(if $(REGION),--region $(REGION)) $(if $(EDITION),--edition $(EDITION))

.PHONY: setup report atlas test test-all lint format bench bench-build bench-fylker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

# The whole report: fetch (online, else the offline mirror), run the notebooks, render HTML + PDF.
# The book goes to _book/<edition>-<region>/ (default _book/2026-33/); _book/index.html links every built book.
report: setup
	$(KG) report $(MIRROR_OPT) --jobs $(JOBS) $(CONFIG)

# Every fylke of an edition in one run, then the atlas page _book/<edition>/index.html comparing
# them: make atlas [EDITION=2025] [JOBS=N]. Without JOBS, twice the CPUs notebooks at once across
# all (pipeline.atlas_jobs); JOBS given on the command line or in the environment overrides it.
ATLAS_JOBS := $(if $(filter command line environment,$(origin JOBS)),--jobs $(JOBS))
atlas: setup
	$(KG) report --all-regions $(MIRROR_OPT) $(ATLAS_JOBS) $(if $(EDITION),--edition $(EDITION))

# Unit tests, in-process CLI tests and one shared offline build: under 5 minutes on two cores.
test: setup
	$(VENV)/bin/pytest -q -m "not slow" --durations=5

# Everything (CI, .ci/run): lint, the README's `make test`, then the slow tier (all fylker, region 40,
# editions 2025 and 2027, the atlas, subprocess fault cases). All run; the target fails if any failed.
test-all: setup
	@rc=0; $(MAKE) --no-print-directory lint || rc=1; \
	  $(MAKE) --no-print-directory test || rc=1; \
	  $(VENV)/bin/pytest -q -m slow --durations=15 || rc=1; exit $$rc

# ruff (rules E,F,W,B,I; format) on the code, tests, benchmarks and notebooks; mypy (lenient) on the package.
lint: setup
	@rc=0; $(VENV)/bin/ruff check --output-format concise . || rc=1; $(VENV)/bin/ruff format --check . || rc=1; \
	  $(VENV)/bin/mypy || rc=1; exit $$rc

# Apply ruff's safe fixes and its formatting (then review the diff).
format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Warm kernels and the atlas (issue 21): one clean configuration --cold vs warm, all 15 fylker,
# kernel start per notebook; the table goes to docs/benchmarks.md
bench: setup
	$(PY) benchmarks/bench_atlas.py $(MIRROR_OPT)

bench-build: setup
	$(PY) benchmarks/bench_build.py $(MIRROR_OPT)

bench-fylker: setup
	$(PY) benchmarks/bench_fylker.py $(MIRROR_OPT)

# Removes only what the tool made (stamped folders in build/, _book/, data/processed/); never data/raw.
clean:
	@if [ -x $(KG) ]; then $(KG) clean; else python3 -m kunnskapsgrunnlag.cli clean; fi
