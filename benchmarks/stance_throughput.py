"""Inference speed: StanceClassifier.predict (fp32, bf16, int8) against transformers.pipeline on the
same model and the same VAST test pairs, in one run; plus bf16/int8 label agreement with fp32.

Usage:
    python benchmarks/stance_throughput.py MODEL [MODEL ...] [--n 2000] [--batch-size 32] [--threads 2]
        [--no-int8] [--output FILE.json]

Each model is measured against the pipeline on itself: the distilled default and the large
teacher give one block each.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from stance.data.examples import load_examples  # noqa: E402
from stance.model.classifier import StanceClassifier  # noqa: E402


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--agreement-set", default="vast:test")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 row (slow on large models)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {str(model): measure(model, args) for model in args.models}
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))


def measure(model: Path, args) -> dict:
    """Throughput of each path and label agreement with fp32 for one model folder."""
    examples = load_examples("vast:test")[: args.n]
    texts = [e.text for e in examples]
    topics = [e.topic for e in examples]
    fp32 = StanceClassifier.from_pretrained(model)
    bf16 = StanceClassifier.from_pretrained(model, precision="bf16")
    int8 = None if args.no_int8 else StanceClassifier.from_pretrained(model, quantize="int8")

    from transformers import pipeline

    pipe = pipeline("text-classification", model=fp32.model, tokenizer=fp32.tokenizer, device=-1, top_k=None)
    pairs = [{"text": t, "text_pair": x} for t, x in zip(topics, texts, strict=True)]
    fp32.predict(texts[:64], topics[:64])  # warm-up
    pipe(pairs[:64], batch_size=args.batch_size, truncation="only_second", max_length=fp32.max_length)

    _, t_pipe = timed(
        lambda: pipe(pairs, batch_size=args.batch_size, truncation="only_second", max_length=fp32.max_length)
    )
    _, t_fp32 = timed(lambda: fp32.predict(texts, topics, batch_size=args.batch_size))
    _, t_bf16 = timed(lambda: bf16.predict(texts, topics, batch_size=args.batch_size))
    n = len(texts)
    rows = {
        "transformers.pipeline (fp32)": n / t_pipe,
        "StanceClassifier.predict fp32": n / t_fp32,
        "StanceClassifier.predict bf16 autocast": n / t_bf16,
    }
    if int8 is not None:
        _, t_int8 = timed(lambda: int8.predict(texts, topics, batch_size=args.batch_size))
        rows["StanceClassifier.predict int8"] = n / t_int8
    agreement_examples = load_examples(args.agreement_set)
    a_texts = [e.text for e in agreement_examples]
    a_topics = [e.topic for e in agreement_examples]
    a32 = [p.label for p in fp32.predict(a_texts, a_topics, batch_size=args.batch_size)]
    agreement = {}
    for name, clf in (("bf16", bf16), ("int8", int8)):
        if clf is None:
            continue
        labels = [p.label for p in clf.predict(a_texts, a_topics, batch_size=args.batch_size)]
        agreement[name] = sum(x == y for x, y in zip(a32, labels, strict=True)) / len(a32)

    print(
        f"{model}: {n} VAST test pairs, batch {args.batch_size}, {args.threads} threads, "
        f"max length {fp32.max_length}"
    )
    base = rows["transformers.pipeline (fp32)"]
    for name, rate in rows.items():
        print(f"{name:34} {rate:8.1f} examples/s   {rate / base:5.2f}x pipeline")
    for name, share in agreement.items():
        print(f"{name} labels agree with fp32 on {share:.4f} of {args.agreement_set} ({len(a32)} pairs)")
    return {
        "examples_per_second": rows,
        "ratio_vs_pipeline": {k: v / base for k, v in rows.items()},
        "agreement_with_fp32": agreement,
        "agreement_set": args.agreement_set,
        "n": n,
    }


if __name__ == "__main__":
    main()
