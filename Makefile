# The three commands of the README. Everything else is `kunnskapsgrunnlag --help`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
KG     := $(VENV)/bin/kunnskapsgrunnlag
MIRROR ?= ../shared/data
JOBS   ?= 2

.PHONY: setup report test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

# The whole report: fetch (online, else the offline mirror), run the notebooks, render HTML + PDF.
report: setup
	$(KG) report --mirror $(MIRROR) --jobs $(JOBS)

test: setup
	$(VENV)/bin/pytest -q

bench: setup
	$(PY) benchmarks/bench_build.py --mirror $(MIRROR)

clean:
	rm -rf build _book _variables.yml data/processed/*.csv
