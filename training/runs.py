"""What every training run does first, and how it records the encoder it started from.

:func:`training.train.train` (the stance model) and :func:`training.attribution.train_attribution`
(the attribution tagger) both open with :func:`start_run` and name their base encoder in
``train_results.json`` and the model card with :func:`encoder_info`.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from stance.model.encoders import encoder_for_folder
from stance.model.folder import weights_sha256


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
