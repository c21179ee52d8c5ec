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
# `make hub`: the class's state (published edition, learners' homes and hand-ins, the hub's database),
# outside the repository so that no clean-up here ever deletes learners' work; and the learners' own
# environment, built from deploy/singleuser/requirements.txt (gitignored, like .venv).
HUB_DIR     ?= ../$(notdir $(CURDIR))-hub
LEARNER_ENV := .venv-learner
HUB_PORT    ?= 8000
HUB_OPTS    ?=
# npm writes node_modules/.package-lock.json on every install: newer than package-lock.json = up to date.
NODE_STAMP  := node_modules/.package-lock.json

.PHONY: help install system-deps hub-deps hub hub-publish lab check test grade marks execute release release-check learner-edition data-check bench clean

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
	fonts-noto-color-emoji:/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf nodejs:node npm:npm

system-deps:  ## install bubblewrap, Chromium, an emoji font and Node.js from Debian packages where missing (root, apt-get)
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

# The hub's proxy (configurable-http-proxy, pinned with its lock file) into ./node_modules.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo 'make hub needs Node.js 20+ and npm for the hub'"'"'s proxy: run `make system-deps` as root, or sudo apt-get install nodejs npm'; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

# The learners' environment: what each learner's server and kernel run on (the single-user image of a real hub).
$(LEARNER_ENV)/.installed: deploy/singleuser/requirements.txt
	test -x $(LEARNER_ENV)/bin/python || $(PYTHON) -m venv $(LEARNER_ENV)
	$(LEARNER_ENV)/bin/python -m pip install --quiet --upgrade pip
	$(LEARNER_ENV)/bin/python -m pip install --quiet -r deploy/singleuser/requirements.txt
	$(LEARNER_ENV)/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $@

hub-deps: install $(NODE_STAMP) $(LEARNER_ENV)/.installed  ## install the hub's proxy (npm ci) and the learners' environment (.venv-learner)

hub: hub-deps  ## a classroom JupyterHub on this machine: prints the nbgitpuller link and the workshop password; HUB_PORT=8000 HUB_OPTS="--password ..."
	$(BIN)/course hub --state $(HUB_DIR) --learner-env $(LEARNER_ENV) --port $(HUB_PORT) $(HUB_OPTS)

hub-publish: hub-deps  ## publish the current learner edition to the class (after `make release`); learners follow the link again
	$(BIN)/course hub --state $(HUB_DIR) --learner-env $(LEARNER_ENV) --publish-only

lab: install  ## start JupyterLab on the course (the main job); PORT=8888 LAB_OPTS=--no-browser
	$(BIN)/jupyter lab --notebook-dir=. --port=$(PORT) $(ROOT_OPT) $(LAB_OPTS) notebooks/00_orientation.ipynb

check: install  ## the fast tier: unit tests and doctests, no notebooks, servers or browsers (about 1.5 minutes)
	$(BIN)/python -m pytest -n 2 -m "not slow" tests course_utils $(PYTEST_OPTS)

test: install system-deps hub-deps  ## run every test (unit, notebooks with nbval, release, learner edition, wheel, grading, browser, a class on JupyterHub)
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

data-check: install  ## rebuild the heart data, the baseline predictions, notebook 02's data and the shipped tables; fail if they differ
	$(BIN)/python data/raw/build_heart_data.py --check
	$(BIN)/python data/raw/build_heart_predictions.py --check
	$(BIN)/python data/raw/build_debiasing_data.py --check
	$(BIN)/python data/raw/build_course_tables.py --check

bench: install  ## time every solution notebook, `import course_utils` and the install size; update README
	$(BIN)/python benchmarks/run_benchmarks.py --update-readme

clean:  ## remove the virtual environments and caches (data, notebooks and the hub's learner homes are kept)
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info test-artifacts node_modules $(LEARNER_ENV)
