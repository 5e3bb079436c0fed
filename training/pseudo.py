"""Self-training: a model labels unlabelled news quotes, and its confident labels become training rows.

:func:`pseudo_label` takes the (quote, headline) pairs of
:func:`training.distill.news_quote_examples` (each quote ``extract_quotes`` finds in PolNeAR's
train articles, paired with its own article's headline and with an unrelated one), labels them
with a model's calibrated probabilities, keeps the pairs whose top probability reaches a
threshold and writes them as JSONL rows that training reads (``data.extra: [FILE.jsonl]``).

Example:
    >>> report = pseudo_label("models/large", "models/pseudo/news_quotes.jsonl")
    >>> report.kept, report.kept_by_label
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from stance.atomic import atomic_file
from stance.data.examples import PROB_COLUMNS, Example
from stance.errors import DataError, DataNotFoundError, InputError
from stance.labels import LABELS
from stance.model.classifier import StanceClassifier
from training.distill import news_quote_examples

logger = logging.getLogger(__name__)

# A label the model gives with calibrated probability 0.9 is wrong about one time in ten; below
# that, rows the model is unsure of would teach its own mistakes back to it.
DEFAULT_MIN_CONFIDENCE = 0.9

SOURCE = "pseudo"
"""The ``source`` field of every written row: labels come from a model, not a person."""


@dataclass(frozen=True)
class PseudoLabelReport:
    """What :func:`pseudo_label` labelled and kept.

    ``predicted_by_label`` counts every pair by the model's top label, ``kept_by_label`` the pairs
    kept (top probability at least ``min_confidence``); both in :data:`stance.labels.LABELS` order.
    ``temperature`` is the model's calibration (1.0: the probabilities are not calibrated).
    """

    model: str
    output: Path
    pairs: int
    kept: int
    predicted_by_label: dict[str, int]
    kept_by_label: dict[str, int]
    min_confidence: float
    temperature: float
    calibrated: bool

    @property
    def kept_share(self) -> float:
        return self.kept / self.pairs if self.pairs else 0.0


def check_options(output: Path, min_confidence: float, limit: int | None) -> None:
    """Refuse a threshold outside (0, 1), a limit under 1 and an output that is not ``.jsonl``.

    Raises:
        InputError: naming the bad value and what is allowed.
    """
    if not 0 < min_confidence < 1:
        raise InputError(
            f"--min-confidence {min_confidence}: must be between 0 and 1 (exclusive), e.g. "
            f"{DEFAULT_MIN_CONFIDENCE}"
        )
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit}: must be at least 1 (leave it out to label every pair)")
    if output.suffix.lower() != ".jsonl":
        raise InputError(f"--output {output}: must end in .jsonl (training reads it as JSONL rows)")
    if output.is_dir():
        raise InputError(f"--output {output}: is a folder; name a .jsonl file")


def polnear_root(polnear: str | Path | None = None) -> Path:
    """The PolNeAR folder whose train articles are labelled.

    Raises:
        DataNotFoundError: no PolNeAR folder, or no ``metadata.tsv`` (the headlines) in it.
    """
    from training.polnear import polnear_dir

    try:
        root = polnear_dir(polnear)
    except FileNotFoundError as err:
        raise DataNotFoundError(f"{err} (`stance data fetch polnear` downloads it)") from None
    if not (root / "metadata.tsv").is_file():
        raise DataNotFoundError(f"PolNeAR at {root} has no metadata.tsv (`stance data fetch polnear`)")
    return root


def news_quote_pairs(root: Path, limit: int | None, seed: int) -> list[Example]:
    """The (quote, headline) pairs to label: all of them, or the first ``limit``.

    Raises:
        DataError: PolNeAR's train articles hold no quote long enough to label.
    """
    pairs = news_quote_examples(-1 if limit is None else limit, random.Random(seed), root)
    if not pairs:
        raise DataError(f"PolNeAR at {root}: its train articles hold no quotes to label")
    return pairs


def pseudo_label(
    model: str | Path,
    output: str | Path,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    limit: int | None = None,
    seed: int = 42,
    batch_size: int = 64,
    precision: str = "fp32",
    polnear: str | Path | None = None,
) -> PseudoLabelReport:
    """Label PolNeAR's news-quote pairs with ``model`` and write the confident ones to ``output``.

    Each written row holds ``text`` (the quote as the model reads it), ``topic``, ``label`` (the
    model's top label), ``context``, ``confidence`` (its calibrated probability), ``source:
    "pseudo"`` and ``p_favor`` / ``p_against`` / ``p_none`` (the model's whole distribution, which
    ``soft_labels: true`` on the file's ``data.extra`` entry trains on). The file is replaced
    atomically, only when every pair is labelled.

    Args:
        model: a trained model folder (ideally calibrated: ``calibration.json``).
        output: the ``.jsonl`` file to write.
        min_confidence: keep a pair when its top probability is at least this, in (0, 1).
        limit: label only the first ``limit`` pairs; None labels every pair.
        seed: which unrelated headline each quote is paired with, and the article order.
        batch_size: pairs per forward pass.
        precision: ``fp32``, ``bf16`` or ``auto`` (see ``StanceClassifier.from_pretrained``).
        polnear: the PolNeAR folder; default ``$STANCE_DATA_DIR/quotes/polnear``.

    Returns:
        A :class:`PseudoLabelReport`.

    Raises:
        InputError: a threshold outside (0, 1), a limit under 1, an output that is not ``.jsonl``.
        ModelLoadError: the model folder is missing or unusable.
        DataNotFoundError: no PolNeAR folder.
        DataError: no quotes in PolNeAR, or no pair reached ``min_confidence``.
    """
    output = Path(output)
    check_options(output, min_confidence, limit)
    root = polnear_root(polnear)
    clf = StanceClassifier.from_pretrained(model, precision=precision)
    if clf.calibration is None:
        logger.warning(
            "%s has no calibration.json: confidences are its raw probabilities "
            "(`stance calibrate %s` fits a temperature)",
            model,
            model,
        )
    pairs = news_quote_pairs(root, limit, seed)
    logger.info("labelling %d news quote pairs with %s", len(pairs), model)
    probs = clf.predict_proba([e.pair for e in pairs], batch_size=batch_size, show_progress=True)
    confidence, best = probs.max(dim=-1)
    labels = [clf.labels[i] for i in best.tolist()]
    kept = [i for i, c in enumerate(confidence.tolist()) if c >= min_confidence]
    if not kept:
        raise DataError(
            f"no pair of {len(pairs)} reached --min-confidence {min_confidence} (highest "
            f"{confidence.max().item():.3f}); lower the threshold or calibrate the model"
        )
    order = [clf.labels.index(label) for label in LABELS]  # the model's columns in LABELS order
    with atomic_file(output) as handle:
        for i in kept:
            pair = pairs[i]
            row = {"text": pair.text, "topic": pair.topic, "label": labels[i], "context": pair.context}
            row.update(confidence=confidence[i].item(), source=SOURCE)
            # the whole distribution, for `{name: FILE, soft_labels: true}` in data.extra
            row.update(zip(PROB_COLUMNS, probs[i, order].tolist(), strict=True))
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    report = PseudoLabelReport(
        model=str(model),
        output=output,
        pairs=len(pairs),
        kept=len(kept),
        predicted_by_label={label: labels.count(label) for label in LABELS},
        kept_by_label={label: sum(labels[i] == label for i in kept) for label in LABELS},
        min_confidence=min_confidence,
        temperature=clf.temperature,
        calibrated=clf.calibration is not None,
    )
    logger.info(
        "kept %d of %d pairs (%.1f %%) in %s", report.kept, report.pairs, 100 * report.kept_share, output
    )
    return report
