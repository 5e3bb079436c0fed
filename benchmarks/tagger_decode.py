"""Decoding the attribution tagger's probabilities into spans, compared on a PolNeAR split.

Usage:
    python benchmarks/tagger_decode.py models/attribution [--split dev] [--cache FILE.pt] [--int8]
        [--window 512 --overlap 128]
        [--min-probs 0.5 0.6 0.7] [--with OTHER_MODEL [--with-cache FILE2.pt] [--weights 0.5 ...]]
        [--set pipeline.REPORT_MARKED_CONTENTS=0 ...]

The tagger reads the split once (its per-piece probabilities are saved to ``--cache`` and read
back on the next run, so decoders can be compared without the model); each decoder then turns
the same probabilities into spans (timed per article), scored twice: the tagger's own spans
against every PolNeAR attribution (exact / overlap F1 per role, as ``stance evaluate-quotes``
reports ``tagger_spans``) and the shipped merge of rules and tagger (``training/quotes_eval.py``,
the figures of docs/experiments.md). Decoders:

* ``greedy``: each piece's most probable tag (the decoder before this comparison);
* ``viterbi``: the best valid BIO path (``stance.quotes.tagger.best_tags``, the shipped decoder),

each merged under several ``MIN_CONTENT_PROB`` values (a content whose mean tag probability is
below it is left out; the mean differs between decoders, so each needs its own).

With ``--with OTHER_MODEL`` a second tagger reads the split too (cached in ``--with-cache``); for
each weight w of ``--weights`` the Viterbi decoder also reads the ensemble ``w * first + (1 - w) *
other`` of the two taggers' per-piece probabilities (their tokenizers must cut the text alike: MiniLM
and mpnet do, to the same offsets).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from stance.quotes import KINDS, decode_entities, pipeline, tagged  # noqa: E402
from stance.quotes.pipeline import extract_quotes_many  # noqa: E402
from stance.quotes.tagger import TaggedSpan, load_tagger, mean_probabilities, read_spans, windows  # noqa: E402
from training.polnear import load_polnear  # noqa: E402
from training.quotes_eval import score_found, score_spans  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tagger_merge import row  # noqa: E402

MIN_PROBS = (0.5, 0.6, 0.7)


DECODERS = {"greedy": True, "viterbi": False}  # name: greedy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    parser.add_argument("--cache", type=Path, default=None, help="probabilities file (.pt), written once")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--int8", action="store_true", help="tag with int8 linear layers")
    parser.add_argument("--window", type=int, default=None, help="read in windows of this many pieces")
    parser.add_argument("--overlap", type=int, default=None, help="pieces shared by neighbouring windows")
    parser.add_argument(
        "--min-probs", type=float, nargs="+", default=list(MIN_PROBS), help="content thresholds to compare"
    )
    parser.add_argument("--with", dest="other", type=Path, default=None, help="a second tagger to ensemble")
    parser.add_argument("--with-cache", type=Path, default=None, help="its probabilities file (.pt)")
    parser.add_argument(
        "--weights", type=float, nargs="+", default=[0.5], help="the first tagger's share in the ensemble"
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="MODULE.NAME=VALUE",
        help="a merge setting for this run (pipeline.REPORT_MARKED_CONTENTS=0, tagged.SUBJECT_FALLBACK=1)",
    )
    args = parser.parse_args()
    for setting in args.settings:
        apply_setting(setting)

    articles = list(load_polnear(args.split))
    texts = [a.text for a in articles]
    decoded = [decode_entities(t)[0] for t in texts]
    reading = {"window": args.window, "overlap": args.overlap}
    probabilities = read_probabilities(args.model, args.cache, decoded, args.batch_size, args.int8, reading)
    spans: dict[str, list[list[TaggedSpan]]] = {}
    for name, greedy in DECODERS.items():
        started = time.perf_counter()
        spans[name] = [
            read_spans(text, probs, offsets, greedy)
            for text, (probs, offsets) in zip(decoded, probabilities, strict=True)
        ]
        ms = 1000 * (time.perf_counter() - started) / len(texts)
        print(f"{name}: decoding {ms:.1f} ms per article", file=sys.stderr)
    if args.other is not None:
        other = read_probabilities(args.other, args.with_cache, decoded, args.batch_size, args.int8)
        spans[f"{args.other.name} alone"] = [
            read_spans(text, probs, offsets) for text, (probs, offsets) in zip(decoded, other, strict=True)
        ]
        for weight in args.weights:
            # the shipped ensemble's mean (stance.quotes.tagger.TaggerEnsemble), over the cached reads
            mean = mean_probabilities([probabilities, other], [weight, 1 - weight])
            spans[f"ensemble w={weight}"] = [
                read_spans(text, p, offsets) for text, (p, offsets) in zip(decoded, mean, strict=True)
            ]
    print(f"PolNeAR {args.split}: {len(articles)} articles")
    header = ["tagger src", "tagger cue", "tagger cont", "cont overlap"]
    rows = []
    shipped = tagged.MIN_CONTENT_PROB
    try:
        for name, per_article in spans.items():
            table = score_spans(articles, ([(s.role, s.start, s.end) for s in a] for a in per_article))
            own = [table[r]["exact_f1"] for r in ("source", "cue", "content")]
            own.append(table["content"]["overlap_f1"])
            for min_prob in args.min_probs:
                tagged.MIN_CONTENT_PROB = min_prob
                found = extract_quotes_many(texts, KINDS, tagged=per_article)
                rows.append((name, min_prob, own, row(score_found(articles, found))))
    finally:
        tagged.MIN_CONTENT_PROB = shipped
    keys = list(rows[0][3])
    width = max(8, *(len(name) for name in spans))
    print(f"{'decoder':{width}} {'prob':>4}" + "".join(f"{k[:13]:>14}" for k in header + keys))
    for name, min_prob, own, figures in rows:
        values = own + [figures[k] for k in keys]
        print(f"{name:{width}} {min_prob:>4}" + "".join(f"{v:>14.3f}" for v in values))


SETTABLE = {"tagged": tagged, "pipeline": pipeline}


def apply_setting(setting: str) -> None:
    """Set one upper-case constant of the merge (``pipeline.REPORT_MARKED_CONTENTS=0``) for this run; a value
    takes the type of the constant it replaces."""
    name, _, value = setting.partition("=")
    module_name, _, constant = name.partition(".")
    module = SETTABLE.get(module_name)
    if module is None or not constant.isupper() or not hasattr(module, constant) or not value:
        raise SystemExit(
            f"--set {setting}: expected MODULE.NAME=VALUE with MODULE one of {', '.join(SETTABLE)}"
        )
    kind = type(getattr(module, constant))
    try:
        number = float({"true": 1, "false": 0}.get(value.lower(), value)) if kind is not str else 0.0
    except ValueError:
        raise SystemExit(f"--set {setting}: {constant} takes a {kind.__name__}, not {value!r}") from None
    setattr(module, constant, value if kind is str else kind(number))


def read_probabilities(
    model: Path,
    cache: Path | None,
    decoded: list[str],
    batch_size: int,
    int8: bool,
    reading: dict | None = None,
) -> list:
    """The tagger's per-piece probabilities of each text, read from ``cache`` or computed (and cached).

    ``reading`` may set the tagger's ``window`` and ``overlap`` (None keeps the folder's own).
    """
    if cache and cache.exists():
        return torch.load(cache)
    tagger = load_tagger(model, quantize="int8" if int8 else None)
    for name, value in (reading or {}).items():
        if value is not None:
            setattr(tagger, name, value)
    windows(100, tagger.window, tagger.overlap)  # refuses an overlap that leaves no room
    started = time.perf_counter()
    probabilities = tagger.probabilities(decoded, batch_size, show_progress=True)
    seconds = time.perf_counter() - started
    print(f"{model}: tagged {len(decoded)} articles in {seconds:.1f} s", file=sys.stderr)
    if cache:
        torch.save(probabilities, cache)
    return probabilities


if __name__ == "__main__":
    main()
