"""Corpus throughput and memory: `stance corpus` (local and Ray) against a loop over
stance.analyze, one article at a time, on PolNeAR's article texts, in one run.

Each measurement runs in its own process, so peak RSS is that run's alone and every run pays
its own model load. The corpus is written to a temporary folder (PolNeAR is not copied into the
repo); dates and publishers come from its metadata.tsv.

The loop may run on a few articles spread over the corpus (--loop-articles N), to save time on a busy machine;
its rate is then compared with the corpus run's rate over all articles.

Usage:
    python benchmarks/corpus.py MODEL [--articles 1000] [--small 100] [--loop-articles N]
                                      [--threads 1] [--no-ray] [--no-bf16] [--output figures.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOPICS = ["Donald Trump", "immigration"]
# the corpus's default kinds, given to both sides: `analyze` alone would also read reported
# speech, so its articles would carry more pairs and the two rates would measure different work
KINDS = ("direct", "mixed")


def build_corpus(path: Path, n: int) -> int:
    """Write the first ``n`` PolNeAR articles (all splits, by file name) as JSONL."""
    from stance.settings import data_dir

    root = data_dir() / "quotes" / "polnear"
    if not root.is_dir():
        sys.exit(f"PolNeAR not found at {root}; set STANCE_DATA_DIR")
    with open(root / "metadata.tsv", encoding="utf-8") as handle:
        meta = {row["filename"]: row for row in csv.DictReader(handle, delimiter="\t")}
    files = sorted(root.glob("*/text/*.txt"), key=lambda p: p.name)[:n]
    with open(path, "w", encoding="utf-8") as out:
        for file in files:
            row = meta.get(file.stem, {})
            record = {
                "id": file.stem,
                "text": file.read_text(encoding="utf-8"),
                "date": row.get("publication_date"),
                "source": row.get("publisher"),
                "title": row.get("title"),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(files)


def child(args) -> None:
    """One measured run; prints a JSON line with wall seconds, counts and peak RSS."""
    import torch

    torch.set_num_threads(args.threads)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime  # after imports: count the work, not loading torch
    started = time.perf_counter()
    if args.child == "loop":
        from stance.analysis import analyze
        from stance.model.classifier import StanceClassifier

        model = StanceClassifier.from_pretrained(args.model)
        articles = pairs = 0
        with open(args.input, encoding="utf-8") as handle:
            for line in handle:
                result = analyze(json.loads(line)["text"], TOPICS, model, kinds=KINDS)
                articles += 1
                pairs += sum(len(q.stances) for q in result.quotes)
    else:
        from stance.corpus import run_corpus

        options = {"num_cpus": args.ray_cpus} if args.child == "ray" else None
        record = run_corpus(
            args.input,
            TOPICS,
            args.output,
            args.model,
            backend=args.child,
            kinds=KINDS,
            ray_options=options,
            precision=args.precision,
            progress=False,
        )
        articles, pairs = record["this_run"]["articles"], record["this_run"]["pairs"]
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    # Ray's workers are descendants reaped at ray.shutdown, so they count under RUSAGE_CHILDREN
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime - cpu_before
    peak_mb = own.ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "articles": articles, "pairs": pairs,
                      "peak_rss_mb": peak_mb}))  # fmt: skip


def measure(kind: str, args, corpus: Path, workdir: Path, precision: str = "fp32") -> dict:
    output = workdir / f"out-{kind}-{precision}-{corpus.stem}"
    cmd = [sys.executable, __file__, str(args.model), "--child", kind, "--input", str(corpus)]
    cmd += ["--output", str(output), "--threads", str(args.threads), "--ray-cpus", str(args.ray_cpus)]
    cmd += ["--precision", precision]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
    print(f"running {kind} ({precision}) on {corpus.stem} ...", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{kind} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["articles_per_s"] = result["articles"] / result["seconds"]
    result["pairs_per_s"] = result["pairs"] / result["seconds"]
    result["articles_per_cpu_s"] = result["articles"] / result["cpu_seconds"]
    result["pairs_per_cpu_s"] = result["pairs"] / result["cpu_seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100, help="the smaller corpus for the memory check")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in every run")
    parser.add_argument("--ray-cpus", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-bf16", action="store_true", help="skip the local bf16 run")
    parser.add_argument(
        "--loop-articles", type=int, default=None, help="loop baseline on this many articles, spread evenly"
    )
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--child", choices=["loop", "local", "ray"], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory(prefix="corpus-bench-") as tmp:
        workdir = Path(tmp)
        big, small = workdir / "big.jsonl", workdir / "small.jsonl"
        n_big = build_corpus(big, args.articles)
        n_small = build_corpus(small, args.small)
        loop_input = big
        if args.loop_articles and args.loop_articles < n_big:
            loop_input = workdir / "loop.jsonl"
            lines = big.read_text(encoding="utf-8").splitlines(keepends=True)
            step = len(lines) / args.loop_articles
            loop_input.write_text("".join(lines[int(i * step)] for i in range(args.loop_articles)), "utf-8")
        runs = {
            "loop": measure("loop", args, loop_input, workdir),
            "local": measure("local", args, big, workdir),
            "local_small": measure("local", args, small, workdir),
        }
        if not args.no_bf16:
            runs["local_bf16"] = measure("local", args, big, workdir, precision="bf16")
        if not args.no_ray:
            runs["ray"] = measure("ray", args, big, workdir)
    figures = {
        "model": str(args.model),
        "articles": n_big,
        "loop_articles": runs["loop"]["articles"],
        "small_articles": n_small,
        "topics": TOPICS,
        "torch_threads": args.threads,
        "runs": runs,
        "speedup_articles_per_s": runs["local"]["articles_per_s"] / runs["loop"]["articles_per_s"],
        "speedup_articles_per_cpu_s": runs["local"]["articles_per_cpu_s"]
        / runs["loop"]["articles_per_cpu_s"],
        "speedup_pairs_per_s": runs["local"]["pairs_per_s"] / runs["loop"]["pairs_per_s"],
        "speedup_pairs_per_cpu_s": runs["local"]["pairs_per_cpu_s"] / runs["loop"]["pairs_per_cpu_s"],
        "rss_ratio_big_over_small": runs["local"]["peak_rss_mb"] / runs["local_small"]["peak_rss_mb"],
    }
    if "ray" in runs:
        figures["ray_over_local_wall"] = runs["ray"]["seconds"] / runs["local"]["seconds"]
        figures["ray_over_local_cpu"] = runs["ray"]["cpu_seconds"] / runs["local"]["cpu_seconds"]
    print(f"model {args.model}; {n_big} articles x {len(TOPICS)} topics; torch threads {args.threads}")
    print(
        f"{'run':12} {'articles':>8} {'wall s':>8} {'CPU s':>8} {'articles/s':>11} {'pairs/s':>9} "
        f"{'peak RSS MB':>12}"
    )
    for name, r in runs.items():
        print(
            f"{name:12} {r['articles']:8} {r['seconds']:8.1f} {r['cpu_seconds']:8.1f} "
            f"{r['articles_per_s']:11.2f} {r['pairs_per_s']:9.1f} {r['peak_rss_mb']:12.0f}"
        )
    print(
        "local / loop speed (both fp32; goal >= 3x): "
        f"articles/s {figures['speedup_articles_per_s']:.2f}x wall, "
        f"{figures['speedup_articles_per_cpu_s']:.2f}x CPU; "
        f"pairs/s {figures['speedup_pairs_per_s']:.2f}x wall, {figures['speedup_pairs_per_cpu_s']:.2f}x CPU"
    )
    if "local_bf16" in runs:
        figures["speedup_bf16_over_loop_fp32"] = (
            runs["local_bf16"]["articles_per_s"] / runs["loop"]["articles_per_s"]
        )
        print(f"local bf16 / loop fp32 speed: {figures['speedup_bf16_over_loop_fp32']:.2f}x")
    print(f"peak RSS {n_big} / {n_small} articles: {figures['rss_ratio_big_over_small']:.2f} (goal <= 1.20)")
    if "ray" in runs:
        print(
            f"ray / local wall time: {figures['ray_over_local_wall']:.2f} (goal <= 1.5); "
            f"CPU time: {figures['ray_over_local_cpu']:.2f}"
        )
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
