"""Stance metrics: accuracy, macro-F1, F_avg (SemEval), per label, per topic, confusion matrix."""

from __future__ import annotations

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
    """n, accuracy and macro-F1 for each topic with at least ``min_n`` rows."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, topic in enumerate(topics):
        groups[topic].append(i)
    out = {}
    for topic, idx in sorted(groups.items()):
        if len(idx) < min_n:
            continue
        m = classification_metrics([gold[i] for i in idx], [pred[i] for i in idx])
        out[topic] = {"n": m["n"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
    return out
