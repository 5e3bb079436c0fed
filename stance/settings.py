"""Where data lives (base encoders are named and verified in :mod:`stance.model.encoders`).

Data is found through ``STANCE_DATA_DIR``; when it is unset we use ``../shared/data`` relative to
the working directory or the repository, if that folder exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, overload

from stance.errors import DataNotFoundError

_REPO_ROOT = Path(__file__).resolve().parent.parent


@overload
def data_dir(required: Literal[True] = True) -> Path: ...


@overload
def data_dir(required: bool) -> Path | None: ...


def data_dir(required: bool = True) -> Path | None:
    """Return the root data folder (holding ``stance/`` and ``quotes/``).

    Raises:
        DataNotFoundError: ``required`` and neither ``STANCE_DATA_DIR`` nor ``../shared/data`` exist.
    """
    env = os.environ.get("STANCE_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if path.is_dir():
            return path
        if required:
            raise DataNotFoundError(f"STANCE_DATA_DIR={env} is not a folder")
        return None
    for candidate in (
        Path.cwd().parent / "shared" / "data",
        _REPO_ROOT.parent / "shared" / "data",
        Path.cwd() / "data",  # where `stance data fetch` writes when STANCE_DATA_DIR is unset
        _REPO_ROOT / "data",
    ):
        if candidate.is_dir():
            return candidate
    if required:
        raise DataNotFoundError(
            "no data folder found: set STANCE_DATA_DIR to a folder holding stance/<name>/normalized/"
            "*.jsonl (and quotes/polnear/), or place it at ../shared/data. "
            "`stance data fetch NAME` downloads a public set into STANCE_DATA_DIR (default ./data)."
        )
    return None


def fetch_dir() -> Path:
    """Where ``stance data fetch`` writes: ``STANCE_DATA_DIR``, else ``./data`` (which data_dir finds)."""
    env = os.environ.get("STANCE_DATA_DIR")
    return Path(env).expanduser() if env else Path.cwd() / "data"
