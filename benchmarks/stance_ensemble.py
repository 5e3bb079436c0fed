"""Stance models trained on one split, alone and joined, on their shared dev rows.

Usage:
    python benchmarks/stance_ensemble.py MODEL MODEL [...] [--batch-size 64] [--precision auto]

The models are runs of one recipe at other ``--train.seed`` with one ``--data.split_seed`` (or a
``stance soup`` of them: its dev split is theirs). Each reads the dev rows of the first model's
``resolved_config.yaml`` once, its own temperature set aside; then every way of joining them is
scored from those readings: each model alone, their probabilities averaged, their
log-probabilities averaged. Every row gets a temperature fitted on the same rows (as training fits
one), and prints macro-F1 on all rows, expected calibration error after the temperature, and per
source macro-F1, F_avg and the accuracy of the 70 % most confident predictions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from stance.config import load_config  # noqa: E402
from stance.labels import LABELS  # noqa: E402
from stance.metrics import classification_metrics, expected_calibration_error, risk_coverage  # noqa: E402
from stance.model.calibration import fit_temperature, uncalibrated  # noqa: E402
from stance.model.classifier import StanceClassifier  # noqa: E402
from stance.model.folder import RESOLVED_CONFIG  # noqa: E402
from training.splits import prepare_sources  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    args = parser.parse_args()

    _, dev, _ = prepare_sources(load_config(args.models[0] / RESOLVED_CONFIG))
    rows = [e for part in dev.values() for e in part]
    sources = [spec for spec, part in dev.items() for _ in part]
    gold = torch.tensor([LABELS.index(e.label) for e in rows])
    readings = {}
    for folder in args.models:
        model = StanceClassifier.from_pretrained(folder, precision=args.precision)
        probs = model.predict_proba([e.pair for e in rows], batch_size=args.batch_size)
        readings[folder.name] = uncalibrated(probs, model.temperature).double().clamp_min(1e-12).log()
    print(f"{len(rows)} dev rows of {args.models[0]} ({', '.join(f'{s} {len(p)}' for s, p in dev.items())})")
    print(f"{'model':<28} {'T':>6} {'all':>6} {'ECE':>6}  per source: macro-F1 / F_avg / accuracy at 70 %")
    for name, logp in readings.items():
        report(name, logp, gold, sources)
    if len(readings) > 1:
        stacked = torch.stack(list(readings.values()))
        report("probabilities averaged", stacked.exp().mean(0).log(), gold, sources)
        report("log-probabilities averaged", stacked.mean(0), gold, sources)


def report(name: str, logp: torch.Tensor, gold: torch.Tensor, sources: list[str]) -> None:
    """One line: the temperature fitted on these rows, then the figures after it."""
    temperature = fit_temperature(logp, gold)
    probs = torch.softmax(logp / temperature, -1)
    pred = probs.argmax(-1)
    confidence = probs.max(-1).values.tolist()
    correct = (pred == gold).tolist()
    labels = [LABELS[i] for i in gold.tolist()], [LABELS[i] for i in pred.tolist()]
    parts = []
    for spec in dict.fromkeys(sources):
        ix = [i for i, s in enumerate(sources) if s == spec]
        m = classification_metrics([labels[0][i] for i in ix], [labels[1][i] for i in ix], LABELS)
        at70 = risk_coverage([confidence[i] for i in ix], [correct[i] for i in ix], (0.7,))[0]["accuracy"]
        parts.append(f"{spec.split(':')[0]} {m['macro_f1']:.3f} / {m['f_avg']:.3f} / {at70:.3f}")
    overall = classification_metrics(*labels, LABELS)["macro_f1"]
    ece = expected_calibration_error(confidence, correct)
    print(f"{name:<28} {temperature:6.3f} {overall:6.3f} {ece:6.3f}  {'; '.join(parts)}")


if __name__ == "__main__":
    main()
