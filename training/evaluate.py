"""``evaluate(model, data)``: score a stance model on labelled sets; JSON first, plots second."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from stance.atomic import atomic_dir, atomic_file
from stance.config import LENGTH_RANGE
from stance.data.examples import DataError, Example, load_examples, parse_spec
from stance.data.labelstore import is_store_spec, store_examples
from stance.errors import InputError
from stance.labels import LABELS
from stance.metrics import (
    classification_metrics,
    ece_floor,
    expected_calibration_error,
    per_topic_metrics,
    risk_coverage,
)
from stance.model.calibration import Calibration, calibrate_logits, uncalibrated, write_calibration
from stance.model.classifier import StanceClassifier, StancePrediction
from stance.model.folder import (
    CALIBRATION,
    CHECKSUMS,
    EVAL_RESULTS,
    MODEL_CARD,
    RESOLVED_CONFIG,
    STANCE_CONFIG,
    read_train_results,
    write_checksums,
)
from training.splits import prepare_data

logger = logging.getLogger(__name__)


def evaluate_examples(
    model: StanceClassifier,
    examples: Sequence[Example],
    batch_size: int = 64,
    topic_swap: bool = False,
) -> dict:
    """Metrics for one list of examples (see :func:`stance.metrics.classification_metrics`).

    With ``topic_swap``, also :func:`topic_swap_sensitivity`, reusing these predictions.
    """
    started = time.perf_counter()
    preds = model.predict(
        [e.pair for e in examples], batch_size=batch_size, show_progress=len(examples) > 500
    )
    seconds = time.perf_counter() - started
    gold = [e.label for e in examples]
    pred = [p.label for p in preds]
    metrics = classification_metrics(gold, pred, LABELS)
    metrics["per_topic"] = per_topic_metrics(gold, pred, [e.topic for e in examples])
    metrics.update(confidence_metrics(model, preds, gold))
    metrics["examples_per_second"] = len(examples) / seconds if seconds else 0.0
    if topic_swap:
        metrics["topic_swap"] = topic_swap_sensitivity(model, examples, batch_size=batch_size, before=pred)
    return metrics


def confidence_metrics(
    model: StanceClassifier, preds: Sequence[StancePrediction], gold: Sequence[str]
) -> dict:
    """Whether the probabilities can be taken at face value.

    Returns:
        ``ece`` (expected calibration error of the probabilities the model returns),
        ``ece_uncalibrated`` (the same before the model's temperature; equal without one),
        ``ece_floor`` (what a perfectly calibrated model with these confidences would show on
        this many rows: :func:`stance.metrics.ece_floor`), ``temperature``, and
        ``risk_coverage`` (accuracy of the 100/90/70/50 % most confident).
    """
    import torch

    correct = [p.label == g for p, g in zip(preds, gold, strict=True)]
    probs = torch.tensor([[p.scores[label] for label in model.labels] for p in preds], dtype=torch.float64)
    raw = uncalibrated(probs, model.temperature).max(-1).values.tolist() if preds else []
    return {
        "ece": expected_calibration_error([p.score for p in preds], correct),
        "ece_uncalibrated": expected_calibration_error(raw, correct),
        "ece_floor": ece_floor([p.score for p in preds]),
        "temperature": model.temperature,
        "risk_coverage": risk_coverage([p.score for p in preds], correct),
    }


# Fewer labelled rows than this leave a model uncalibrated: a temperature fitted on a handful of
# rows sharpens as readily as it softens.
MIN_CALIBRATION_ROWS = 50


def fit_calibration(
    model: StanceClassifier, examples: Sequence[Example], fitted_on: str, batch_size: int = 64
) -> tuple[Calibration, list[StancePrediction]]:
    """Fit a temperature on labelled examples; the model's own temperature is set aside first.

    Returns:
        The calibration (not yet set on the model) and the uncalibrated predictions it was fitted on.

    Raises:
        ValueError: no examples.
    """
    import torch

    if not examples:
        raise ValueError("calibration needs labelled examples; the dev split is empty")
    probs = model.predict_proba(
        [e.pair for e in examples], batch_size=batch_size, show_progress=len(examples) > 500
    )
    raw = uncalibrated(probs, model.temperature).double()
    labels = torch.tensor([model.labels.index(e.label) for e in examples])
    # log-probabilities stand in for the logits: the softmax ignores a shift per row
    calibration = calibrate_logits(raw.clamp_min(1e-300).log(), labels, fitted_on)
    preds = [
        StancePrediction(
            label=model.labels[int(row.argmax())],
            score=float(row.max()),
            scores={label: float(row[i]) for i, label in enumerate(model.labels)},
        )
        for row in raw
    ]
    return calibration, preds


def dev_report(
    model: StanceClassifier, dev_by_source: dict[str, list[Example]], batch_size: int = 64
) -> tuple[Calibration | None, dict[str, dict]]:
    """After training: a temperature fitted on all dev rows, and dev figures for each source.

    The figures per source (rows fixed by the seed and the source, see
    :func:`training.splits.prepare_sources`) let screening runs that add a source be compared on
    the rows they share.

    Returns:
        (calibration, or None with fewer than :data:`MIN_CALIBRATION_ROWS` dev rows;
        ``{source: {n, accuracy, macro_f1, f_avg}}``).
    """
    examples = [e for rows in dev_by_source.values() for e in rows]
    if not examples:
        return None, {}
    calibration: Calibration | None
    calibration, preds = fit_calibration(model, examples, f"dev split ({len(examples)} rows)", batch_size)
    figures = {}
    start = 0
    for spec, rows in dev_by_source.items():
        part = preds[start : start + len(rows)]
        start += len(rows)
        if rows:
            m = classification_metrics([e.label for e in rows], [p.label for p in part], LABELS)
            figures[spec] = {k: m[k] for k in ("n", "accuracy", "macro_f1", "f_avg")}
    if len(examples) < MIN_CALIBRATION_ROWS:
        logger.warning("%d dev rows: too few to fit a temperature; not calibrated", len(examples))
        return None, figures
    logger.info(
        "temperature %.3f fitted on %d dev rows: ECE %.3f -> %.3f, NLL %.3f -> %.3f",
        calibration.temperature,
        calibration.n,
        calibration.ece_before,
        calibration.ece_after,
        calibration.nll_before,
        calibration.nll_after,
    )
    return calibration, figures


def model_dev_split(folder: str | Path) -> list[Example]:
    """The dev rows a model folder was trained with, rebuilt from its ``resolved_config.yaml``.

    Raises:
        DataError: the folder has no resolved config, was trained before dev splits could be
            rebuilt (no ``dev_by_source`` in ``train_results.json``), or the rebuilt split differs
            in size from the one recorded (the data changed); the message says to pass ``--data``.
    """
    from stance.config import load_config

    folder = Path(folder)
    hint = "pass --data NAME:SPLIT with labelled rows the model was not trained on"
    if not (folder / RESOLVED_CONFIG).is_file():
        raise DataError(f"{folder} has no {RESOLVED_CONFIG} to rebuild its dev split from; {hint}")
    results = read_train_results(folder)
    if "dev_by_source" not in results:
        raise DataError(f"{folder} was trained before its dev split could be rebuilt exactly; {hint}")
    _, dev, _ = prepare_data(load_config(folder / RESOLVED_CONFIG))
    if len(dev) != results.get("dev_examples"):
        raise DataError(
            f"{folder}: the rebuilt dev split has {len(dev)} rows, training had "
            f"{results.get('dev_examples')} (the data changed); {hint}"
        )
    return dev


def calibrate_model(
    folder: str | Path,
    data: Sequence[str] | None = None,
    batch_size: int = 64,
    allow_unverified: bool = False,
    max_length: int | None = None,
) -> Calibration:
    """Fit a temperature for a saved model and store it in its folder (``stance calibrate``).

    The folder is rewritten atomically (files hard-linked where possible) with ``calibration.json``
    and a ``checksums.json`` that covers it; a calibration already there is replaced.

    Args:
        folder: a model folder.
        data: ``name:split`` specs or paths; default: the model's own dev split
            (:func:`model_dev_split`).
        batch_size: examples per forward pass.
        allow_unverified: load a folder without ``checksums.json``.
        max_length: tokens the model reads from now on (``stance_config.json``), the temperature
            fitted at that length; the model card says so, and ``eval_results.json`` (figures
            of the old length) becomes ``eval_results_<old>tokens.json``. None keeps the folder's.

    Raises:
        DataError: no usable rows (see :func:`model_dev_split`), or fewer than
            :data:`MIN_CALIBRATION_ROWS`.
        InputError: a ``max_length`` outside 8 to 512.
    """
    folder = Path(folder)
    if max_length is not None and not LENGTH_RANGE[0] <= max_length <= LENGTH_RANGE[1]:
        raise InputError(f"max_length={max_length}; expected {LENGTH_RANGE[0]} to {LENGTH_RANGE[1]} tokens")
    model = StanceClassifier.from_pretrained(folder, allow_unverified=allow_unverified)
    was = model.max_length
    if max_length is not None:
        model.max_length = max_length
    if data:
        examples = [e for spec in data for e in load_examples(spec)]
        fitted_on = ", ".join(data)
    else:
        examples = model_dev_split(folder)
        fitted_on = f"dev split of {RESOLVED_CONFIG}"
    if len(examples) < MIN_CALIBRATION_ROWS:
        raise DataError(f"{len(examples)} labelled rows; a temperature needs at least {MIN_CALIBRATION_ROWS}")
    calibration, _ = fit_calibration(model, examples, f"{fitted_on} ({len(examples)} rows)", batch_size)
    changed = model.max_length != was
    rewritten = [CALIBRATION, CHECKSUMS] + ([STANCE_CONFIG, MODEL_CARD, EVAL_RESULTS] if changed else [])
    with atomic_dir(folder) as tmp:
        for item in folder.iterdir():
            if item.name in rewritten:
                continue
            if item.is_dir():
                shutil.copytree(item, tmp / item.name, copy_function=_link_or_copy)
            else:
                _link_or_copy(item, tmp / item.name)
        if changed and (folder / EVAL_RESULTS).is_file():
            # figures of the old length are no longer the model's (/v1/model shows none until
            # `stance evaluate` runs again); kept under a name that says which length they read
            _link_or_copy(folder / EVAL_RESULTS, tmp / f"eval_results_{was}tokens.json")
        if STANCE_CONFIG in rewritten:
            model.write_settings(tmp)
            if (folder / MODEL_CARD).is_file():
                card = (folder / MODEL_CARD).read_text(encoding="utf-8").rstrip("\n")
                (tmp / MODEL_CARD).write_text(
                    f"{card}\n\nReads up to {model.max_length} tokens since `stance calibrate --max-length "
                    f"{model.max_length}` (before: {was}), its temperature refitted at that length: "
                    f"{calibration.temperature:.3f} on the {calibration.fitted_on}. Figures above are from "
                    "before.\n",
                    encoding="utf-8",
                )
        write_calibration(tmp, calibration)
        write_checksums(tmp)
    return calibration


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    # files are never written in place, so the new folder may share the old one's inodes
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def eval_sets(data: str | Sequence[str]) -> Iterator[tuple[str, list[Example]]]:
    """``(name, rows)`` of each data spec :func:`evaluate` takes, read one at a time.

    ``stance train`` reads them all once before training (``list(eval_sets(...))``), so that a
    misspelt set is refused before the run spends its hours rather than after.

    Raises:
        stance.data.examples.DataError: an unknown set or split, a missing file, a bad row.
    """
    for spec in [data] if isinstance(data, str) else list(data):
        if is_store_spec(spec):  # the user's own labels (`labels:`), newest label per item
            yield spec, store_examples(spec)
        else:
            yield parse_spec(spec)[0], load_examples(spec)


def evaluate(
    model: StanceClassifier, data: str | Sequence[str], batch_size: int = 64, topic_swap: bool = False
) -> dict[str, dict]:
    """Evaluate on each data spec (``vast:test_zeroshot_clean``, ``semeval2016:test``, a path, or
    ``labels:`` / ``labels:PATH`` for the newest label of each item in a label store).

    ``topic_swap`` adds each set's :func:`topic_swap_sensitivity` under ``"topic_swap"``.

    Returns:
        ``{spec: metrics}``; metrics hold n, accuracy, macro_f1, f_avg, per_label, per_topic,
        confusion_matrix.

    Raises:
        stance.data.examples.DataError: a bad row, with file and line.
    """
    results = {}
    for name, examples in eval_sets(data):
        results[name] = evaluate_examples(model, examples, batch_size, topic_swap)
        m = results[name]
        logger.info(
            "%s: n=%d acc=%.3f macro-F1=%.3f F_avg=%.3f",
            name,
            m["n"],
            m["accuracy"],
            m["macro_f1"],
            m["f_avg"],
        )
    return results


def topic_swap_sensitivity(
    model: StanceClassifier,
    examples: Sequence[Example],
    seed: int = 0,
    batch_size: int = 64,
    before: Sequence[str] | None = None,
) -> dict:
    """Share of favor/against predictions that become ``none`` when the topic is swapped.

    Each text gets the topic of another row whose text and topic differ, so the new topic is
    unrelated to it. A model that ignores the topic scores near 0. ``before`` takes labels
    already predicted with the true topics, so they are not predicted again.
    """
    rng = random.Random(seed)
    topics = sorted({e.topic for e in examples})
    swapped = []
    for e in examples:
        for _ in range(20):
            candidate = rng.choice(topics)
            if candidate.lower() != e.topic.lower() and candidate.lower() not in e.text.lower():
                break
        swapped.append(candidate)
    # each row is read as evaluate_examples read it (its context included); only the topic changes
    pairs = [e.pair for e in examples]
    if before is None:
        before = [p.label for p in model.predict(pairs, batch_size=batch_size)]
    after = model.predict(
        [replace(p, topic=t) for p, t in zip(pairs, swapped, strict=True)], batch_size=batch_size
    )
    polar = [i for i, label in enumerate(before) if label != "none"]
    moved = sum(after[i].label == "none" for i in polar)
    return {
        "n": len(examples),
        "polar_before": len(polar),
        "moved_to_none": moved,
        "share_moved_to_none": moved / len(polar) if polar else 0.0,
    }


def plot_confusion(matrix: list[list[int]], labels: Sequence[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    top = max(max(row) for row in matrix) or 1
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            ax.text(
                c,
                r,
                str(value),
                ha="center",
                va="center",
                color="white" if value > top / 2 else "black",
            )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def write_eval_outputs(results: dict[str, dict], folder: str | Path) -> Path:
    """Write ``eval_results.json`` (all sets), one JSON per set, and confusion-matrix PNGs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_file(folder / EVAL_RESULTS) as handle:
        json.dump(results, handle, indent=2)
    for i, (name, metrics) in enumerate(results.items()):
        slug = _slug(name)
        with atomic_file(folder / f"eval_results_{slug}.json") as handle:
            json.dump(metrics, handle, indent=2)
        plot_confusion(
            metrics["confusion_matrix"],
            metrics["labels"],
            name,
            folder / f"confusion_matrix_{slug}.png",
        )
        if i == 0:
            plot_confusion(
                metrics["confusion_matrix"],
                metrics["labels"],
                name,
                folder / "confusion_matrix.png",
            )
    return folder / EVAL_RESULTS
