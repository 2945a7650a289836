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
# test processes (pytest-xdist): one per logical CPU; TEST_WORKERS=0 runs in this process only
TEST_WORKERS ?= logical

.PHONY: setup sample run test lab clean help

help:
	@echo "make run    set up, generate the sample data, run the whole pipeline"
	@echo "make test   set up and run the test suite"
	@echo "make lab    open JupyterLab on the notebooks with the workbench kernel"

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

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks --MappingKernelManager.default_kernel_name=$(KERNEL)

clean:
	rm -rf $(VENV) $(SAMPLE) outputs
