# Two commands: `make demo` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# one test worker per core, at most 2 (the suite's budget is 15 minutes on 2 cores)
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 2 ] && n=2; echo $$n)

MEME_STAMP := $(VENV)/opt/meme-5.4.1/bin/tomtom

.PHONY: venv meme demo test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned resolve would pull several GB of CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# STREME and TOMTOM are built from source on this machine (MEME's licence forbids
# shipping them); about a minute, once.
$(MEME_STAMP): | $(STAMP)
	$(VENV)/bin/medna-interp install-meme

meme: $(MEME_STAMP)

demo: venv meme
	$(VENV)/bin/medna-interp demo -o demo_run

test: venv meme
	$(PY) -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile --durations=15 tests

clean:
	rm -rf $(VENV) demo_run
