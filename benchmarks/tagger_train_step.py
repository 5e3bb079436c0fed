"""A training step of the attribution tagger (or the stance model), timed in turns with and without
attention dropout.

Usage:
    python benchmarks/tagger_train_step.py [--base mpnet] [--window 256] [--batch-size 16]
        [--dropouts 0.1 0] [--steps 4] [--rounds 2] [--threads 2]
    python benchmarks/tagger_train_step.py --task stance [--base mpnet] [--window 128] [--data vast:train]

Each setting is a model in training mode (dropout on, as the Trainer runs it) built from the same
base encoder, fed the same batches: PolNeAR training windows (the collator of
``training/attribution.py``), or with ``--task stance`` (topic, text) pairs of a stance set cut to
``--window`` tokens, padded per batch as ``training/train.py`` pads them, through the stance
classifier. bf16 autocast where the CPU has it, and AdamW. A round runs
``--steps`` forward, backward and optimiser steps of every setting in turn, after one untimed warm-up
step each, so a machine that slows down mid-run slows every setting alike; the figure is each
setting's best round in seconds per step, and its ratio to the first setting's.

The attention dropout draws a random mask over ``batch x heads x window x window`` scores in every
layer, which a CPU pays for in full: ``model.attention_dropout`` in the configs turns it off.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from stance.data.examples import load_examples  # noqa: E402
from stance.model.classifier import StanceClassifier, cpu_has_fast_bf16  # noqa: E402
from stance.model.encoders import resolve_encoder  # noqa: E402
from stance.quotes.tagger import LABELS  # noqa: E402
from training.attribution import article_windows  # noqa: E402
from training.polnear import load_polnear  # noqa: E402
from training.runs import dropout_override  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["attribution", "stance"], default="attribution")
    parser.add_argument("--base", default="mpnet", help="encoder name or folder (minilm, mpnet)")
    parser.add_argument("--window", type=int, default=256, help="tokens a row holds (stance: at most)")
    parser.add_argument("--data", default="vast:train", help="stance rows (--task stance)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.1, 0.0], help="attention dropouts")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per setting and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    base = resolve_encoder(args.base)
    rows, collate, build = (stance_rows if args.task == "stance" else tagger_rows)(base, args)
    batches = [collate(rows[i : i + args.batch_size]) for i in range(0, len(rows), args.batch_size)]
    batches = [b for b in batches if len(b["input_ids"]) == args.batch_size]
    if len(batches) < args.steps + 1:
        raise SystemExit(f"only {len(batches)} full batches; lower --steps or --batch-size")
    bf16 = cpu_has_fast_bf16()
    models = {}
    for p in args.dropouts:
        model = build(p).train()
        models[p] = (model, torch.optim.AdamW(model.parameters(), lr=1e-5))

    def step(p: float, batch: dict) -> None:
        model, optimizer = models[p]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for p in args.dropouts:
        step(p, batches[0])  # warm-up: first calls build the kernels
    best = dict.fromkeys(args.dropouts, float("inf"))
    for _ in range(args.rounds):
        for p in args.dropouts:
            started = time.perf_counter()
            for batch in batches[1 : args.steps + 1]:
                step(p, batch)
            best[p] = min(best[p], (time.perf_counter() - started) / args.steps)
    first = best[args.dropouts[0]]
    print(f"{args.task}: {args.base}, window {args.window}, batch {args.batch_size}, bf16 {bf16}", end="")
    print(f", {args.threads} threads")
    for p, seconds in best.items():
        print(f"attention dropout {p}: {seconds:.2f} s a step ({first / seconds:.2f}x)")


def tagger_rows(base: Path, args: argparse.Namespace) -> tuple[list[dict], Callable, Callable]:
    """PolNeAR training windows of 60 articles, their collator, and a tagger built with an attention
    dropout."""
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
    )

    tokenizer = AutoTokenizer.from_pretrained(base)
    rows = article_windows(tokenizer, list(load_polnear("train"))[:60], args.window, 32)

    def build(p: float) -> torch.nn.Module:
        return AutoModelForTokenClassification.from_pretrained(
            base, num_labels=len(LABELS), **dropout_override(p)
        )

    return rows, DataCollatorForTokenClassification(tokenizer), build


def stance_rows(base: Path, args: argparse.Namespace) -> tuple[list[dict], Callable, Callable]:
    """The first rows of a stance set in length order (batched by length as the trainer does), the
    trainer's padding collator, and a classifier with an attention dropout."""
    from transformers import DataCollatorWithPadding

    clf = StanceClassifier.from_base(base, max_length=args.window)
    examples = load_examples(args.data)[: args.batch_size * (args.steps + 2)]
    encoded = clf.encode_pairs([e.pair for e in examples])
    labels = {label: i for i, label in enumerate(clf.labels)}
    rows = [
        {**{k: v[i] for k, v in encoded.items()}, "labels": labels[e.label]} for i, e in enumerate(examples)
    ]
    rows.sort(key=lambda row: len(row["input_ids"]))  # like the trainer's group_by_length mega-batch

    def build(p: float) -> torch.nn.Module:
        return StanceClassifier.from_base(base, max_length=args.window, overrides=dropout_override(p)).model

    return rows, DataCollatorWithPadding(clf.tokenizer), build


if __name__ == "__main__":
    main()
