"""An analyst on a topic the shipped model never trained on: adapt it to 100 of their labels.

P-Stance "Donald Trump" (tweets; P-Stance is not in the default mix): each draw takes
``--labels`` examples of that target's test split at random, runs ``stance adapt`` (the library
call, default options: one held-out fold, 500 dev rows) and scores the adapted model on the rest
of that split, against the unadapted model on the same rows; and on VAST zero-shot (clean) to see
what it forgot. Prints one line per draw and a summary; ``--output`` writes every figure as JSON.

Usage:
    python benchmarks/adapt.py MODEL [--draws 5] [--labels 100] [--target "Donald Trump"]
        [--threads 2] [--output FILE.json]

Goals (issue 19): macro-F1 on the target up by at least 0.10; VAST zero-shot clean F_avg down by
at most 0.01; adapt wall time at most 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from stance.data.examples import load_examples  # noqa: E402
from stance.labels import LABELS  # noqa: E402
from stance.metrics import classification_metrics  # noqa: E402
from stance.model.classifier import StanceClassifier  # noqa: E402
from training.adapt import AdaptOptions, adapt  # noqa: E402


def labels_of(clf: StanceClassifier, examples) -> list[str]:
    preds = clf.predict([e.text for e in examples], [e.topic for e in examples], batch_size=64)
    return [p.label for p in preds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--target", default="Donald Trump")
    parser.add_argument("--data", default="pstance:test")
    parser.add_argument("--forget-set", default="vast:test_zeroshot_clean")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    target = [e for e in load_examples(args.data) if e.topic == args.target]
    forget = load_examples(args.forget_set)
    base = StanceClassifier.from_pretrained(args.model)
    base_target = labels_of(base, target)
    base_forget = classification_metrics([e.label for e in forget], labels_of(base, forget), LABELS)
    print(
        f"{args.model}: {args.target} {len(target)} rows ({args.data}); {args.forget_set} "
        f"F_avg {base_forget['f_avg']:.3f} macro-F1 {base_forget['macro_f1']:.3f} before adapting",
        flush=True,
    )
    draws = []
    for d in range(args.draws):
        rng = random.Random(args.seed + d)
        chosen = set(rng.sample(range(len(target)), args.labels))
        labelled = [target[i] for i in sorted(chosen)]
        rest = [i for i in range(len(target)) if i not in chosen]
        gold = [target[i].label for i in rest]
        before = classification_metrics(gold, [base_target[i] for i in rest], LABELS)
        with tempfile.TemporaryDirectory(prefix="adapt-bench-") as tmp:
            started = time.perf_counter()
            report = adapt(args.model, labelled, Path(tmp) / "adapted", AdaptOptions(seed=args.seed + d))
            wall = time.perf_counter() - started
            adapted = StanceClassifier.from_pretrained(Path(tmp) / "adapted")
            after = classification_metrics(gold, labels_of(adapted, [target[i] for i in rest]), LABELS)
            after_forget = classification_metrics(
                [e.label for e in forget], labels_of(adapted, forget), LABELS
            )
        draw = {
            "draw": d,
            "scored": len(rest),
            "macro_f1_before": before["macro_f1"],
            "macro_f1_after": after["macro_f1"],
            "macro_f1_gain": after["macro_f1"] - before["macro_f1"],
            "f_avg_before": before["f_avg"],
            "f_avg_after": after["f_avg"],
            "forget_f_avg_change": after_forget["f_avg"] - base_forget["f_avg"],
            "forget_macro_f1_change": after_forget["macro_f1"] - base_forget["macro_f1"],
            "adapt_seconds": wall,
            "held_out": report.get("held_out", {}),
            "dev": report.get("dev", {}),
        }
        draws.append(draw)
        print(
            f"draw {d}: macro-F1 {before['macro_f1']:.3f} -> {after['macro_f1']:.3f} "
            f"({draw['macro_f1_gain']:+.3f}) on {len(rest)} rows; {args.forget_set} F_avg "
            f"{draw['forget_f_avg_change']:+.3f}; adapt {wall:.0f} s",
            flush=True,
        )
        summarize(args, draws, base_forget, final=d == args.draws - 1)


def summarize(args, draws: list[dict], base_forget: dict, final: bool) -> None:
    """Print the summary (at the end) and write every figure so far to ``--output``."""

    def mean(key: str) -> float:
        return statistics.mean(d[key] for d in draws)

    def spread(key: str) -> str:
        values = [d[key] for d in draws]
        return f"min {min(values):+.3f}, max {max(values):+.3f}" if len(values) > 1 else ""

    summary = {
        "draws": len(draws),
        "labels": args.labels,
        "target": args.target,
        "macro_f1_before": mean("macro_f1_before"),
        "macro_f1_after": mean("macro_f1_after"),
        "macro_f1_gain": mean("macro_f1_gain"),
        "forget_f_avg_before": base_forget["f_avg"],
        "forget_f_avg_change": mean("forget_f_avg_change"),
        "adapt_seconds_mean": mean("adapt_seconds"),
        "adapt_seconds_max": max(d["adapt_seconds"] for d in draws),
    }
    if final:
        print(
            f"\nsummary over {len(draws)} draws of {args.labels} labels: {args.target} macro-F1 "
            f"{summary['macro_f1_before']:.3f} -> {summary['macro_f1_after']:.3f} "
            f"(gain {summary['macro_f1_gain']:+.3f}; {spread('macro_f1_gain')}; goal +0.10); "
            f"{args.forget_set} F_avg change {summary['forget_f_avg_change']:+.3f} "
            f"({spread('forget_f_avg_change')}; goal >= -0.01); adapt wall time mean "
            f"{summary['adapt_seconds_mean']:.0f} s, max {summary['adapt_seconds_max']:.0f} s (goal 300 s)"
        )
    if args.output:  # after every draw, so an interrupted run keeps what it measured
        args.output.write_text(json.dumps({"summary": summary, "draws": draws}, indent=2))


if __name__ == "__main__":
    main()
