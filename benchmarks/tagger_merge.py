"""The attribution tagger's merge with the rules on PolNeAR dev: one tagging per precision, many merges.

Usage:
    python benchmarks/tagger_merge.py models/attribution [--split dev] [--int8] [--output FILE.json]

The tagger reads the split once in fp32 (and with ``--int8`` once more with int8 linear layers),
timed; every merge then reruns only the rules over those spans, scored by the project's scorer
(``training/quotes_eval.py``, as ``stance evaluate-quotes --model`` scores the shipped merge):

* ``before``: the tagger's whole source span resolved as one mention, no rules for a content
  without a source (the merge before the fix of the client's article);
* ``after``: the name read from the span's head (``stance.quotes.tagged.source_name``), and the
  sentence rules' speaker for a reported statement the tagger gives no source (``rules_speaker``);
* ``after, subject fallback``: ``after`` with ``sentence_subject`` among those rules;
* ``after, drop unattributed``: ``after`` without the reported statements that nobody speaks;
* ``after, tagger over all rules``: ``after`` with the tagger's source replacing every rule's,
  ``pipeline.RULES_KEEP`` included (the merge before "― Name" and ", saying" kept their speaker),

each under the ``SOURCE_POLICY`` and ``MIN_CONTENT_PROB`` values of the table in
docs/experiments.md. Figures: direct speaker accuracy and end-to-end F1, reported content
P / R / F1 and speaker accuracy, all-attribution content / source exact F1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stance.quotes import KINDS, Quote, decode_entities, pipeline, tagged  # noqa: E402
from stance.quotes.entities import resolve  # noqa: E402
from stance.quotes.pipeline import extract_quotes_many  # noqa: E402
from stance.quotes.tagger import load_tagger  # noqa: E402
from training.polnear import load_polnear  # noqa: E402
from training.quotes_eval import score_found  # noqa: E402

POLICIES = ("fill", "tagger")
MIN_PROBS = (0.5, 0.6, 0.7)
MERGES = (
    "before",
    "after",
    "after, subject fallback",
    "after, drop unattributed",
    "after, tagger over all rules",
)


@contextlib.contextmanager
def merge_as(merge: str, policy: str, min_prob: float) -> Iterator[None]:
    """The pipeline with one merge, ``SOURCE_POLICY`` and ``MIN_CONTENT_PROB`` (restored after)."""
    saved = (
        pipeline.SOURCE_POLICY,
        tagged.MIN_CONTENT_PROB,
        tagged.SUBJECT_FALLBACK,
        tagged.source_name,
        pipeline.rules_speaker,
        pipeline.RULES_KEEP,
    )
    pipeline.SOURCE_POLICY = policy  # type: ignore[assignment]
    tagged.MIN_CONTENT_PROB = min_prob
    if merge == "before":
        tagged.source_name = resolve
        pipeline.rules_speaker = lambda content, tokens, ents: None
    if merge == "after, subject fallback":
        tagged.SUBJECT_FALLBACK = True
    if merge in ("before", "after, tagger over all rules"):
        pipeline.RULES_KEEP = frozenset()
    try:
        yield
    finally:
        (
            pipeline.SOURCE_POLICY,
            tagged.MIN_CONTENT_PROB,
            tagged.SUBJECT_FALLBACK,
            tagged.source_name,
            pipeline.rules_speaker,
            pipeline.RULES_KEEP,
        ) = saved


def _attributed(quotes: list[Quote]) -> list[Quote]:
    return [q for q in quotes if q.kind != "indirect" or q.speaker_mention is not None or q.speaker]


def row(result: dict) -> dict:
    """The figures of one merge, as in docs/experiments.md."""
    every = result["all_attributions"]
    return {
        "direct_speaker_accuracy": result["speaker_accuracy"],
        "direct_end_to_end_f1": result["end_to_end_f1"],
        "direct_span_f1": result["span_f1"],
        "reported_content_precision": result["indirect_content_precision"],
        "reported_content_recall": result["indirect_content_recall"],
        "reported_content_f1": result["indirect_content_f1"],
        "reported_speaker_accuracy": result["indirect_speaker_accuracy"],
        "content_exact_f1": every["content"]["exact_f1"],
        "source_exact_f1": every["source"]["exact_f1"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--split", default="dev", choices=["train", "dev"])
    parser.add_argument("--int8", action="store_true", help="also tag with int8 linear layers")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    articles = list(load_polnear(args.split))
    texts = [a.text for a in articles]
    decoded = [decode_entities(t)[0] for t in texts]
    out: dict = {"split": args.split, "articles": len(articles), "speed": {}, "rows": []}
    for quantize in (None, "int8") if args.int8 else (None,):
        tagger = load_tagger(args.model, quantize=quantize)
        tagger.tag("Warm-up: Jalali said the tagger loads once.")
        name = quantize or tagger.precision
        started = time.perf_counter()
        spans = tagger.tag_many(decoded, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        out["speed"][name] = {"tag_seconds": seconds, "articles_per_second": len(articles) / seconds}
        print(f"{name}: tagged {len(articles)} articles in {seconds:.1f} s", file=sys.stderr)
        for merge in MERGES:
            for policy in POLICIES:
                for min_prob in MIN_PROBS:
                    with merge_as(merge, policy, min_prob):
                        found = extract_quotes_many(texts, KINDS, tagged=spans)
                    if merge.endswith("drop unattributed"):
                        found = [_attributed(f) for f in found]
                    figures = row(score_found(articles, found))
                    out["rows"].append(
                        {"tagger": name, "merge": merge, "policy": policy, "min_prob": min_prob, **figures}
                    )
    keys = list(out["rows"][0])[4:]
    print(f"PolNeAR {args.split}: {len(articles)} articles")
    print(f"{'tagger':6} {'merge':30} {'policy':7} {'prob':>5}" + "".join(f"{k[:13]:>14}" for k in keys))
    for r in out["rows"]:
        print(
            f"{r['tagger']:6} {r['merge']:30} {r['policy']:7} {r['min_prob']:>5}"
            + "".join(f"{r[k]:>14.3f}" for k in keys)
        )
    if args.output:
        args.output.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
