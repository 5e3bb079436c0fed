"""What every training run does first, and how it records the encoder it started from.

:func:`training.train.train` (the stance model) and :func:`training.attribution.train_attribution`
(the attribution tagger) both open with :func:`start_run` and name their base encoder in
``train_results.json`` and the model card with :func:`encoder_info`. Both distillations keep
their teacher's reading with :func:`cached_teacher_reading` (the tagger's, whole) or
:func:`cached_teacher_rows` (the stance teacher's, row by row), keyed by :func:`teacher_fingerprint`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from stance.atomic import atomic_file
from stance.errors import ConfigError
from stance.model.encoders import cache_dir, encoder_for_folder
from stance.model.folder import CHECKSUMS, weights_sha256
from stance.quotes.tagger import ENSEMBLE

logger = logging.getLogger(__name__)
T = TypeVar("T")


def start_run(output: str | Path, seed: int, num_threads: int = 0) -> tuple[Path, Path, float]:
    """Set torch's thread count (0 keeps its default) and every random seed, and start the clock.

    Returns:
        The output folder, its work folder (``<output>.work``: checkpoints, removed on success)
        and the start time (``time.time()``).
    """
    from transformers import set_seed

    output = Path(output)
    work = output.parent / f"{output.name}.work"
    if num_threads:
        torch.set_num_threads(num_threads)
    set_seed(seed)
    return output, work, time.time()


def encoder_info(path: Path) -> dict:
    """Name, upstream and weights checksum of the base encoder, for the card and ``/v1/model``."""
    encoder = encoder_for_folder(path)
    if encoder is None:
        return {"name": str(path), "sha256": weights_sha256(path)}
    return {"name": encoder.name, "upstream": encoder.upstream, "sha256": encoder.weights_sha256}


def cached_teacher_reading(kind: str, key: str, read: Callable[[], T]) -> T:
    """``read()``, kept as ``$STANCE_CACHE_DIR/<kind>/<key>.pt`` (written atomically) for the next run.

    A teacher's reading of every training text costs minutes to half an hour; a second student
    (another seed, another mix) reuses it. ``key`` must cover the teacher's weights and the texts.
    """
    cached = cache_dir() / kind / f"{key}.pt"
    if cached.is_file():
        logger.info("teacher reading from cache %s", cached)
        return torch.load(cached)
    value = read()
    cached.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(cached, "wb") as handle:
        torch.save(value, handle)
    return value


# Rows read between two writes of the store: an interrupted reading (an hour of mpnet in fp32 on
# 2 cores) keeps all but the last few minutes of it, and the store is rewritten a handful of times.
TEACHER_ROWS_PER_WRITE = 4096


def cached_teacher_rows(
    kind: str, key: str, row_keys: list[str], read: Callable[[list[int]], torch.Tensor]
) -> torch.Tensor:
    """One tensor row per ``row_keys`` entry, each read once and kept for the next run.

    ``$STANCE_CACHE_DIR/<kind>/<key>.rows.pt`` holds every row this teacher (``key``) has read so
    far; ``read(indices)`` is asked only for the rows it lacks (by position in ``row_keys``), in
    pieces of :data:`TEACHER_ROWS_PER_WRITE`, and the file is rewritten atomically after each, so
    a reading stopped part-way resumes where it stopped. A second student with another seed
    (other dev rows, another sample of a capped source) shares most of its rows with the first and
    so pays only for the rest.
    """
    store = cache_dir() / kind / f"{key}.rows.pt"
    known: dict[str, torch.Tensor] = {}
    if store.is_file():
        saved = torch.load(store)
        known = dict(zip(saved["keys"], saved["rows"], strict=True))
    first: dict[str, int] = {}  # each distinct row, by where it first appears
    for index, row_key in enumerate(row_keys):
        first.setdefault(row_key, index)
    missing = [index for row_key, index in first.items() if row_key not in known]
    logger.info(
        "teacher reading: %d distinct rows, %d cached, %d to read",
        len(first),
        len(first) - len(missing),
        len(missing),
    )
    for start in range(0, len(missing), TEACHER_ROWS_PER_WRITE):
        piece = missing[start : start + TEACHER_ROWS_PER_WRITE]
        for index, row in zip(piece, read(piece), strict=True):
            known[row_keys[index]] = row
        store.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(store, "wb") as handle:
            torch.save({"keys": list(known), "rows": torch.stack(list(known.values()))}, handle)
    return torch.stack([known[k] for k in row_keys])


def teacher_fingerprint(folder: Path) -> bytes:
    """What identifies a teacher's weights: every checksums.json (and ensemble.json) under its folder."""
    parts = [p.read_bytes() for p in sorted(folder.rglob(CHECKSUMS))]
    if (folder / ENSEMBLE).is_file():
        parts.append((folder / ENSEMBLE).read_bytes())
    return b"\n".join(parts) or str(folder.resolve()).encode()


def check_layers(base: Path, n: int) -> None:
    """Refuse ``model.layers=n`` before any data is read when the encoder at ``base`` has fewer
    (``n`` 0 keeps every layer: nothing to check).

    Raises:
        ConfigError: ``n`` is more than the encoder has.
    """
    from transformers import AutoConfig

    if not n:
        return
    total = AutoConfig.from_pretrained(base).num_hidden_layers
    if not 1 <= n <= total:
        raise ConfigError(f"model.layers={n}; the base encoder has {total} layers")


def keep_layers(model: Any, n: int) -> list[int]:
    """Cut the encoder of ``model`` to ``n`` of its layers, evenly spaced from the first (6 -> 3
    keeps 0, 2, 4); the saved config says ``num_hidden_layers = n``, so the folder loads as is.

    Raises:
        ConfigError: ``n`` is more than the encoder has.
    """
    encoder = getattr(model, model.base_model_prefix).encoder
    total = len(encoder.layer)
    if not 1 <= n <= total:
        raise ConfigError(f"model.layers={n}; the base encoder has {total} layers")
    kept = [i * total // n for i in range(n)]
    encoder.layer = torch.nn.ModuleList(encoder.layer[i] for i in kept)
    model.config.num_hidden_layers = n
    return kept


def dropout_override(attention_dropout: float) -> dict[str, float]:
    """``from_pretrained`` keywords for ``model.attention_dropout``: none when it is negative (keep
    the base's), else ``attention_probs_dropout_prob`` (the name BERT and MPNet configs share).

    Example:
        >>> dropout_override(-1.0), dropout_override(0.0)
        ({}, {'attention_probs_dropout_prob': 0.0})
    """
    return {} if attention_dropout < 0 else {"attention_probs_dropout_prob": attention_dropout}
