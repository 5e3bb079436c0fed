"""The attribution tagger's precision paths on PolNeAR, timed in turns within one process.

Usage:
    python benchmarks/tagger_precision.py models/attribution [--split dev] [--limit N] [--rounds 3]

Paths: fp32; bf16 autocast over fp32 weights (what ``precision="bf16"`` did before the weights were
held in bf16); bf16 weights under autocast (``load_tagger(..., precision="bf16")`` today); int8
dynamic quantisation. Each round times every path once over the same articles (windows batched
across articles, as ``extract_quotes_many`` does), so a machine that slows down mid-run slows every
path alike; the figure is each path's best round, and its ratio to fp32. Also prints how far each
path's probabilities move from fp32's and on how many word pieces the most probable tag differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stance.model.classifier import cpu_has_fast_bf16  # noqa: E402
from stance.quotes.tagger import AttributionTagger  # noqa: E402
from training.polnear import load_polnear  # noqa: E402


def paths(folder: Path) -> dict[str, AttributionTagger]:
    out = {
        "fp32": AttributionTagger.from_pretrained(folder, precision="fp32"),
        "int8": AttributionTagger.from_pretrained(folder, precision="fp32", quantize="int8"),
    }
    if cpu_has_fast_bf16():
        autocast_only = AttributionTagger.from_pretrained(folder, precision="fp32")
        autocast_only.precision = "bf16"  # autocast on, weights left in fp32
        out["bf16 autocast, fp32 weights"] = autocast_only
        out["bf16 weights"] = AttributionTagger.from_pretrained(folder, precision="bf16")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tagger", type=Path)
    parser.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    texts = [a.text for a in load_polnear(args.split)][: args.limit]
    taggers = paths(args.tagger)
    if "bf16 weights" not in taggers:
        print("this CPU has no AVX512-BF16 or AMX: fp32 and int8 only", file=sys.stderr)
    seconds: dict[str, list[float]] = {name: [] for name in taggers}
    read = {}
    for tagger in taggers.values():
        tagger.probabilities(texts[:2])  # warm-up
    for n in range(args.rounds):
        for name, tagger in taggers.items():
            started = time.perf_counter()
            read[name] = tagger.probabilities(texts)
            seconds[name].append(time.perf_counter() - started)
        took = ", ".join(f"{k} {v[-1]:.1f} s" for k, v in seconds.items())
        print(f"round {n + 1}: {took}", file=sys.stderr)

    pieces = sum(len(offsets) for _, offsets in read["fp32"])
    print(f"PolNeAR {args.split}: {len(texts)} articles, {pieces} word pieces, best of {args.rounds} rounds")
    print(f"{'path':30}{'articles/s':>12}{'x fp32':>9}{'max |p - p32|':>15}{'tags differ':>13}")
    best32 = min(seconds["fp32"])
    for name, times in seconds.items():
        pairs = [(p, q) for (p, _), (q, _) in zip(read[name], read["fp32"], strict=True)]
        diff = max((p - q).abs().max().item() for p, q in pairs)
        moved = sum(int((p.argmax(-1) != q.argmax(-1)).sum()) for p, q in pairs)
        print(f"{name:30}{len(texts) / min(times):>12.2f}{best32 / min(times):>9.2f}{diff:>15.3f}{moved:>13}")


if __name__ == "__main__":
    main()
