"""``evaluate(model, data)``: score a stance model on labelled sets; JSON first, plots second."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path

from stance.atomic import atomic_file
from stance.data import Example, load_examples, parse_spec
from stance.labels import LABELS
from stance.metrics import classification_metrics, per_topic_metrics
from stance.model import StanceClassifier
from stance.model_folder import EVAL_RESULTS

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
        [e.text for e in examples],
        [e.topic for e in examples],
        batch_size=batch_size,
        contexts=[e.context for e in examples],
        show_progress=len(examples) > 500,
    )
    seconds = time.perf_counter() - started
    gold = [e.label for e in examples]
    pred = [p.label for p in preds]
    metrics = classification_metrics(gold, pred, LABELS)
    metrics["per_topic"] = per_topic_metrics(gold, pred, [e.topic for e in examples])
    metrics["examples_per_second"] = len(examples) / seconds if seconds else 0.0
    if topic_swap:
        metrics["topic_swap"] = topic_swap_sensitivity(model, examples, batch_size=batch_size, before=pred)
    return metrics


def evaluate(
    model: StanceClassifier, data: str | Sequence[str], batch_size: int = 64, topic_swap: bool = False
) -> dict[str, dict]:
    """Evaluate on each data spec (``vast:test_zeroshot_clean``, ``semeval2016:test`` or a path).

    ``topic_swap`` adds each set's :func:`topic_swap_sensitivity` under ``"topic_swap"``.

    Returns:
        ``{spec: metrics}``; metrics hold n, accuracy, macro_f1, f_avg, per_label, per_topic,
        confusion_matrix.

    Raises:
        stance.data.DataError: a bad row, with file and line.
    """
    specs = [data] if isinstance(data, str) else list(data)
    results = {}
    for spec in specs:
        name, _ = parse_spec(spec)
        examples = load_examples(spec)
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
    texts = [e.text for e in examples]
    if before is None:
        before = [p.label for p in model.predict(texts, [e.topic for e in examples], batch_size=batch_size)]
    after = model.predict(texts, swapped, batch_size=batch_size)
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
