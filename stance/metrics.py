"""Stance metrics: accuracy, macro-F1, F_avg (SemEval), per label and topic, confusion, calibration."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence

from stance.labels import LABELS


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def confusion_matrix(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS
) -> list[list[int]]:
    """Rows are gold labels, columns predicted labels, both in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        matrix[index[g]][index[p]] += 1
    return matrix


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict:
    """Accuracy, macro-F1 over the labels present in gold or predictions, F_avg and per-label P/R/F1.

    F_avg is the SemEval-2016 measure: the mean of F1(favor) and F1(against).

    Example:
        >>> classification_metrics(["favor", "against"], ["favor", "none"])["accuracy"]
        0.5
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    matrix = confusion_matrix(gold, pred, labels)
    per_label = {}
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        fp = sum(matrix[r][i] for r in range(len(labels))) - tp
        fn = sum(matrix[i]) - tp
        per_label[label] = _prf(tp, fp, fn)
    present = [lab for lab in labels if per_label[lab]["support"] or lab in set(pred)]
    macro = sum(per_label[lab]["f1"] for lab in present) / len(present) if present else 0.0
    f_avg_labels = [lab for lab in ("favor", "against") if lab in per_label]
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(matrix[i][i] for i in range(len(labels))) / n if n else 0.0,
        "macro_f1": macro,
        "f_avg": sum(per_label[lab]["f1"] for lab in f_avg_labels) / max(1, len(f_avg_labels)),
        "per_label": per_label,
        "labels": list(labels),
        "confusion_matrix": matrix,
    }


def per_topic_metrics(
    gold: Sequence[str], pred: Sequence[str], topics: Sequence[str], min_n: int = 1
) -> dict[str, dict]:
    """n, accuracy, macro-F1 and F_avg for each topic with at least ``min_n`` rows."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, topic in enumerate(topics):
        groups[topic].append(i)
    out = {}
    for topic, idx in sorted(groups.items()):
        if len(idx) < min_n:
            continue
        m = classification_metrics([gold[i] for i in idx], [pred[i] for i in idx])
        out[topic] = {"n": m["n"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "f_avg": m["f_avg"]}
    return out


# Equal-width confidence bins for ECE: 15 as in Guo et al. (ICML 2017), so figures compare with theirs.
ECE_BINS = 15
# Shares of predictions kept, most confident first, in the risk-coverage table.
COVERAGES = (1.0, 0.9, 0.7, 0.5)


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """Expected calibration error: the row-weighted mean gap between confidence and accuracy.

    Rows are put in ``bins`` equal-width bins by confidence (the top label's probability); each
    bin adds ``|accuracy - mean confidence| * rows in bin / all rows``. 0 is perfectly calibrated.

    Example:
        >>> expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, False])
        0.25
    """
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness flags")
    if not confidences:
        return 0.0
    sums: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for confidence, ok in zip(confidences, correct, strict=True):
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence {confidence} is not a probability")
        # a confidence of exactly 1.0 belongs to the top bin
        b = min(int(confidence * bins), bins - 1)
        sums[b][0] += 1
        sums[b][1] += float(ok)
        sums[b][2] += confidence
    n = len(confidences)
    return sum(abs(hits - total) / n for _, hits, total in sums.values())


# Draws behind :func:`ece_floor`: its mean moves by well under 0.005 between seeds at 200 draws.
# Large sets take fewer (the floor shrinks as 1/sqrt(rows), and so does its spread), so that no
# more than ECE_FLOOR_BUDGET row outcomes are drawn (a few seconds), and never fewer than 20 draws.
ECE_FLOOR_DRAWS = 200
ECE_FLOOR_BUDGET = 2_000_000


def ece_floor(
    confidences: Sequence[float], bins: int = ECE_BINS, draws: int = ECE_FLOOR_DRAWS, seed: int = 0
) -> float:
    """The ECE a perfectly calibrated model with these confidences would show on this many rows.

    ECE is never 0 on a finite set: each bin's accuracy is a sample. Here each row is right with
    probability equal to its confidence (calibration by construction), and the ECE of ``draws``
    such outcomes is averaged. A measured ECE near this floor is as calibrated as the set can show;
    on 200 rows of a 3-way task it is about 0.07.

    Example:
        >>> ece_floor([1.0, 1.0, 1.0])   # certain and right: nothing to sample
        0.0
        >>> ece_floor([0.6] * 100) > ece_floor([0.6] * 10000)
        True
    """
    if not confidences:
        return 0.0
    rng = random.Random(seed)
    draws = max(20, min(draws, ECE_FLOOR_BUDGET // len(confidences)))
    total = 0.0
    for _ in range(draws):
        outcome = [rng.random() < c for c in confidences]
        total += expected_calibration_error(confidences, outcome, bins)
    return total / draws


def risk_coverage(
    confidences: Sequence[float], correct: Sequence[bool], coverages: Sequence[float] = COVERAGES
) -> list[dict[str, float]]:
    """Accuracy of the most confident predictions, at each share of predictions kept.

    At coverage c the ``ceil(c * n)`` rows with the highest confidence are kept (ties keep input
    order); a model whose confidence means something is more accurate on the rows it keeps.

    Returns:
        One ``{"coverage", "kept", "accuracy", "min_confidence"}`` per coverage, in the given
        order; ``min_confidence`` is the lowest confidence kept (the threshold that gives it).

    Example:
        >>> table = risk_coverage([0.9, 0.8, 0.6, 0.5], [True, True, False, True], [1.0, 0.5])
        >>> [row["accuracy"] for row in table]
        [0.75, 1.0]
    """
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness flags")
    order = sorted(range(len(confidences)), key=lambda i: -confidences[i])
    rows = []
    for coverage in coverages:
        if not 0 < coverage <= 1:
            raise ValueError(f"coverage {coverage} must be in (0, 1]")
        kept = order[: math.ceil(coverage * len(order))]
        rows.append(
            {
                "coverage": coverage,
                "kept": len(kept),
                "accuracy": sum(bool(correct[i]) for i in kept) / len(kept) if kept else 0.0,
                "min_confidence": min((confidences[i] for i in kept), default=0.0),
            }
        )
    return rows
