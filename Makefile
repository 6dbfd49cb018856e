# The three commands of the README. Everything else is `kunnskapsgrunnlag --help`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
KG     := $(VENV)/bin/kunnskapsgrunnlag
MIRROR ?= ../shared/data
JOBS   ?= 2
# Configuration: make report REGION=40 EDITION=2025 (default: config/project.yml `defaults`)
REGION ?=
EDITION ?=
CONFIG := $(if $(REGION),--region $(REGION)) $(if $(EDITION),--edition $(EDITION))

.PHONY: setup report atlas test bench bench-build bench-fylker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

# The whole report: fetch (online, else the offline mirror), run the notebooks, render HTML + PDF.
# The book goes to _book/<edition>-<region>/ (default _book/2026-33/); _book/index.html links every built book.
report: setup
	$(KG) report --mirror $(MIRROR) --jobs $(JOBS) $(CONFIG)

# Every fylke of an edition in one run (JOBS notebooks at once across all), then the atlas page
# _book/<edition>/index.html comparing them: make atlas [EDITION=2025]
atlas: setup
	$(KG) report --all-regions --mirror $(MIRROR) --jobs $(JOBS) $(if $(EDITION),--edition $(EDITION))

test: setup
	$(VENV)/bin/pytest -q

# Warm kernels and the atlas (issue 21): one clean configuration --cold vs warm, all 15 fylker,
# kernel start per notebook; the table goes to docs/benchmarks.md
bench: setup
	$(PY) benchmarks/bench_atlas.py --mirror $(MIRROR)

bench-build: setup
	$(PY) benchmarks/bench_build.py --mirror $(MIRROR)

bench-fylker: setup
	$(PY) benchmarks/bench_fylker.py --mirror $(MIRROR)

# Removes only what the tool made (stamped folders in build/, _book/, data/processed/); never data/raw.
clean:
	@if [ -x $(KG) ]; then $(KG) clean; else python3 -m kunnskapsgrunnlag.cli clean; fi
