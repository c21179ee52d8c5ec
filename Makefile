# The index of everything you can do with the course.  `make help` lists it.
#
# Quick start (README): `make lab` for learners, `make test` for everyone else.
# Both create .venv with the pinned dependencies on first use; nothing else is needed
# beyond python3 (3.11+), make and git.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Extra options for `jupyter lab`, e.g. `make lab LAB_OPTS=--no-browser`.
LAB_OPTS ?=
# JupyterLab refuses to run as root unless told it may (containers, CI machines).
ROOT_OPT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
# pytest options for `make test`, e.g. `make test PYTEST_OPTS="-k data"`.
PYTEST_OPTS ?=

.PHONY: help install lab test execute release release-check data-check bench clean

help:  ## list what you can do
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv with the pinned dependencies and course_utils (editable); safe to repeat

# Reinstall only when the pins change: the stamp is newer than pyproject.toml otherwise.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The course needs Python 3.11 or newer; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo 'Could not create .venv. On Debian/Ubuntu install the venv module: sudo apt-get install python3-venv'; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[instructor,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

lab: install  ## start JupyterLab on the course (the main job); PORT=8888 LAB_OPTS=--no-browser
	$(BIN)/jupyter lab --notebook-dir=. --port=$(PORT) $(ROOT_OPT) $(LAB_OPTS) notebooks/00_orientation.ipynb

test: install  ## run every test (unit, data, metrics, notebooks with nbval, release, lab server)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_OPTS)

execute: install  ## re-run every solution notebook and save its outputs (after editing solutions/)
	$(BIN)/course execute

release: install  ## regenerate learner notebooks/ from solutions/
	$(BIN)/course release

release-check: install  ## fail if notebooks/ is out of date with solutions/
	$(BIN)/course release --check

data-check: install  ## rebuild the heart data from data/raw/ and fail if it differs from the shipped CSV
	$(BIN)/python data/build_heart_data.py --check

bench: install  ## time every solution notebook, `import course_utils` and the install size; update README
	$(BIN)/python benchmarks/run_benchmarks.py --update-readme

clean:  ## remove the virtual environment and caches (data and notebooks are kept)
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
