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
# pytest options for `make test` and `make check`, e.g. `make test PYTEST_OPTS="-k data"`.
PYTEST_OPTS ?=
# nbval re-executes every solution notebook and compares its stored outputs (part of `make test`).
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Where `make learner-edition` writes the learner edition (outside this repository).
LEARNER_DIR ?= ../$(notdir $(CURDIR))-learner
EXPORT_OPTS ?=

.PHONY: help install system-deps lab check test grade marks execute release release-check learner-edition data-check bench clean

help:  ## list what you can do
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv with the pinned dependencies and course_utils (editable); safe to repeat

# Reinstall only when the pins change: the stamp is newer than pyproject.toml otherwise.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The course needs Python 3.11 or newer; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo 'Could not create .venv. On Debian/Ubuntu install the venv module: sudo apt-get install python3-venv'; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[instructor,test,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

# Debian packages the tests and the grader use: bubblewrap (the grading sandbox), Chromium (browser
# tests; Playwright drives this one and never downloads its own) and an emoji font (so the browser
# screenshots show the ✅/❌ feedback).  Each is "package:command" or "package:/file/it/installs".
# Installed only where missing, and only as root on a machine with apt-get; elsewhere the grader runs
# unsandboxed and says so in every row.
SYSTEM_PACKAGES := bubblewrap:bwrap chromium:chromium \
	fonts-noto-color-emoji:/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf

system-deps:  ## install bubblewrap, Chromium and an emoji font from Debian packages where missing (root, apt-get)
	@missing=""; for pair in $(SYSTEM_PACKAGES); do probe="$${pair#*:}"; \
	  if [ "$${probe#/}" != "$$probe" ]; then [ -e "$$probe" ]; else command -v "$$probe" >/dev/null 2>&1; fi \
	  || missing="$$missing $${pair%%:*}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "note: missing$$missing (Debian packages). Install them (e.g. sudo apt-get install$$missing) for the"; \
	  echo "      grading sandbox and the browser tests; without them those tests fail with this advice."; \
	fi

lab: install  ## start JupyterLab on the course (the main job); PORT=8888 LAB_OPTS=--no-browser
	$(BIN)/jupyter lab --notebook-dir=. --port=$(PORT) $(ROOT_OPT) $(LAB_OPTS) notebooks/00_orientation.ipynb

check: install  ## the fast tier: unit tests and doctests, no notebooks, servers or browsers (under a minute)
	$(BIN)/python -m pytest -n 2 -m "not slow" tests course_utils $(PYTEST_OPTS)

test: install system-deps  ## run every test (unit, notebooks with nbval, release, learner edition, wheel, grading, browser)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(NBVAL) $(PYTEST_OPTS)

# `make grade SUBMISSIONS=hand-ins/ NOTEBOOK=01` writes grades/01/gradebook.csv and one feedback file per learner.
SUBMISSIONS ?= submissions
NOTEBOOK ?= 01
GRADE_OPTS ?=

grade: install system-deps  ## grade a folder of hand-ins: SUBMISSIONS=dir NOTEBOOK=01 [GRADE_OPTS="--jobs 2 --memory 2G"]
	$(BIN)/course grade $(SUBMISSIONS) --notebook $(NOTEBOOK) --out grades/$(NOTEBOOK) $(GRADE_OPTS)

# `make marks NOTEBOOK=01 MARKS="~/Downloads/marks-*.csv"` after marking on the pages in grades/01/marking/.
MARKS ?= marks-*.csv

marks: install  ## merge Reflect marks saved from the marking pages: NOTEBOOK=01 MARKS="~/Downloads/marks-*.csv"
	$(BIN)/course marks merge grades/$(NOTEBOOK) $(MARKS)

execute: install  ## re-run every solution notebook and save its outputs (after editing solutions/)
	$(BIN)/course execute

release: install  ## regenerate learner notebooks/ from solutions/
	$(BIN)/course release

release-check: install  ## fail if notebooks/ is out of date with solutions/
	$(BIN)/course release --check

learner-edition: install  ## write the learner edition to hand out: LEARNER_DIR=../course-learner [EXPORT_OPTS=--force]
	$(BIN)/course export-learner $(LEARNER_DIR) $(EXPORT_OPTS)

data-check: install  ## rebuild the heart data, the baseline predictions and notebook 02's data; fail if they differ from the shipped files
	$(BIN)/python data/raw/build_heart_data.py --check
	$(BIN)/python data/raw/build_heart_predictions.py --check
	$(BIN)/python data/raw/build_debiasing_data.py --check

bench: install  ## time every solution notebook, `import course_utils` and the install size; update README
	$(BIN)/python benchmarks/run_benchmarks.py --update-readme

clean:  ## remove the virtual environment and caches (data and notebooks are kept)
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info test-artifacts
