# The two commands a new user needs: `make run` and `make test`.
# Everything is installed into .venv; nothing is expected to be installed by hand.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
KERNEL   := asn-workbench
STAMP    := $(VENV)/.installed
SAMPLE   := data/sample
PARAMS   ?= params/default.yaml
PYTEST_ARGS ?=
LAB_ARGS ?=
# test processes (pytest-xdist): one per logical CPU; TEST_WORKERS=0 runs in this process only
TEST_WORKERS ?= logical

.PHONY: setup sample run test browser lab clean help

help:
	@echo "make run    set up, generate the sample data, run the whole pipeline"
	@echo "make test   set up and run the test suite"
	@echo "make lab    open JupyterLab on the repository (file browser on notebooks/) with the workbench kernel"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "ASN Workbench (Python)" >/dev/null
	touch $@

setup: $(STAMP)

# The sample is written to a temporary folder and moved into place, so an
# interrupted generation never leaves a half-written dataset behind.
$(SAMPLE)/truth.json: | $(STAMP)
	$(BIN)/workbench synth --out $(SAMPLE)

sample: $(SAMPLE)/truth.json

run: setup sample
	$(BIN)/workbench run --params $(PARAMS)

test: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The browser test (tests/pipeline/test_lab_browser.py) drives Debian's chromium through chromedriver.
# Installed here when missing and apt-get can be used (as root), quietly; never failing the tests:
# without them the browser test skips and says why.
browser: | $(STAMP)
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing chromium and chromium-driver for the browser test (apt-get, a few minutes)..."; \
	  if { timeout 900 apt-get -qq -o DPkg::Lock::Timeout=300 update && \
	       DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -qq -y -o DPkg::Lock::Timeout=300 \
	         install chromium chromium-driver; } >$(VENV)/apt-browser.log 2>&1; \
	  then echo "chromium and chromium-driver installed."; \
	  else echo "Could not install chromium and chromium-driver (see $(VENV)/apt-browser.log): the browser test will skip."; fi; \
	else echo "No chromium or chromedriver, and apt-get cannot be used here: the browser test will skip."; fi

# JupyterLab on the repository root (notebooks/ and outputs/ both reachable), file browser on
# notebooks/, --allow-root only as root; the command line is built in analysis.pipeline.lab.
# LAB_ARGS: e.g. --port 9000 --no-browser, or -- followed by JupyterLab's own options.
lab: setup
	$(BIN)/workbench lab --kernel $(KERNEL) $(LAB_ARGS)

clean:
	rm -rf $(VENV) $(SAMPLE) outputs
