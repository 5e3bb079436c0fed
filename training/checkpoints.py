"""Which Trainer checkpoint ``--resume`` may continue from.

The Trainer writes a checkpoint folder file by file: weights, optimizer, scheduler, RNG state,
and ``trainer_state.json`` last. A run killed mid-write leaves a folder without that file, or
with it cut short; resuming from it would fail with a raw traceback. Such folders are skipped
(and removed, saying so) and the last complete one is used.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = "checkpoint-"
# written in this order by transformers' Trainer._save_checkpoint; the state file comes last
REQUIRED = ("model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json")


def step_of(checkpoint: Path | None) -> int:
    """The global step in a checkpoint folder's name (0 for None)."""
    return int(checkpoint.name.removeprefix(PREFIX)) if checkpoint is not None else 0


def why_incomplete(checkpoint: Path) -> str | None:
    """What is wrong with a checkpoint folder, or None when it is complete."""
    missing = [name for name in REQUIRED if not (checkpoint / name).is_file()]
    if missing:
        return f"missing {', '.join(missing)}"
    try:
        json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "trainer_state.json is cut short"
    return None


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The complete checkpoint with the highest step under ``folder``; half-written ones are removed.

    Returns:
        The checkpoint folder, or None when there is none to resume from.
    """
    found = [p for p in folder.glob(f"{PREFIX}*") if p.is_dir() and p.name.removeprefix(PREFIX).isdigit()]
    for checkpoint in sorted(found, key=step_of, reverse=True):
        problem = why_incomplete(checkpoint)
        if problem is None:
            logger.info("resuming from %s (step %d)", checkpoint, step_of(checkpoint))
            return checkpoint
        logger.warning("skipping half-written checkpoint %s (%s); removing it", checkpoint, problem)
        shutil.rmtree(checkpoint, ignore_errors=True)
    if found:
        logger.warning("no complete checkpoint in %s; training from the start", folder)
    return None
