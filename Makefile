# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_LOGGING_LEVEL := WARNING
export HF_HUB_OFFLINE := 1

.PHONY: run test fuzz setup system samples bench eval clean

setup: system $(VENV)/.installed

system:
	@bash scripts/setup_system.sh

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -c requirements.lock -e '.[test,scale]'
	touch $@

samples: setup
	$(PY) -m samples.build --out samples/inbox
	$(PY) -m samples.build --out samples/inbox --only feeds  # vulnerability feeds, SBOMs and their ledger (issue 15)

run: samples
	$(VENV)/bin/mdsgap run --inbox samples/inbox --out outputs

# Two pytest-xdist workers (the machine's cores); a test file stays on one worker with its module fixtures.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile tests

# Long random runs, not part of `make test`: every Hypothesis property with random draws and FUZZ_SCALE (10)
# times the examples (profile "fuzz", tests/fuzzing.py), every LibreOffice print of every sample family and
# random combinations of layout transformations. A failure becomes an @example / fixed combination.
# METAMORPHIC_NO_XFAIL=1 ignores the xfail marks.
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -m "fuzz or hypothesis" tests

bench: setup
	$(PY) -m pipeline.bench

# `make eval [SET=../shared/eval/<set>] [DETAILS=1]`: run the pipeline over a copy of an evaluation set and score it.
EVAL_DIR ?= ../shared/eval
SET ?= $(EVAL_DIR)/dev-2026-11
eval: $(if $(wildcard $(VENV)/bin/mdsgap),,setup)
	@test -d "$(SET)/inbox" || { echo "評価セットが見つかりません: $(SET)（shared/ をリポジトリの隣に置いてください）" >&2; exit 2; }
	bash $(EVAL_DIR)/run-dev.sh "$(SET)" $(if $(DETAILS),--details)

clean:
	rm -rf $(VENV) .prefect outputs/* samples/inbox
