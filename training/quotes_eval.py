"""Score the quote splitter on PolNeAR: span P/R/F1, speaker accuracy, end-to-end F1, speed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from stance.quotes import Quote, decode_entities, extract_quotes
from stance.quotes.pipeline import extract_quotes_many
from stance.quotes.tagged import rule_name
from training.polnear import Article, GoldQuote, load_polnear

if TYPE_CHECKING:
    from stance.quotes.tagger import SpanTagger, TaggedSpan

_PRONOUNS = {"he", "she", "they", "i", "we", "it", "him", "her", "them"}


def covers(pred: tuple[int, int], gold: tuple[int, int]) -> bool:
    """A prediction finds a gold quote when it covers at least half of it."""
    overlap = min(pred[1], gold[1]) - max(pred[0], gold[0])
    return overlap > 0 and overlap >= 0.5 * (gold[1] - gold[0])


def _content_words(name: str | None) -> set[str]:
    if not name:
        return set()
    words = {w.lower().removesuffix("’s").removesuffix("'s") for w in re.findall(r"[\w’'-]+", name)}
    return {w for w in words if w not in _PRONOUNS and len(w) > 2 and w[0].isalpha()}


def speaker_correct(quote: Quote, gold: GoldQuote) -> bool:
    """The predicted mention overlaps the gold Source span, or the names share a surname word."""
    if gold.source is None:
        return quote.speaker is None and quote.speaker_mention is None
    q_start, q_end = quote.speaker_start, quote.speaker_end
    g_start, g_end = gold.source_start, gold.source_end
    if q_start is not None and q_end is not None and g_start is not None and g_end is not None:
        if min(q_end, g_end) > max(q_start, g_start):
            return True
    gold_words = _content_words(gold.source)
    if not gold_words or not quote.speaker:
        return False
    capitalised = {w for w in re.findall(r"[A-Z][\w’'-]+", gold.source)}
    names = {w.lower().removesuffix("’s").removesuffix("'s") for w in capitalised}
    predicted = _content_words(quote.speaker)
    return bool(names & predicted)


def score_articles(
    articles: Iterable[Article],
    extractor: Callable[[str], list[Quote]] = extract_quotes,
    gold_of: Callable[[Article], Iterable[GoldQuote]] = lambda a: a.quotes,
) -> dict:
    """Run ``extractor`` on each article and compare with gold; returns counts and figures.

    ``gold_of`` picks the gold quotes (direct by default; ``lambda a: a.reported`` for reported
    speech, then give an extractor that returns only indirect quotes).
    """
    n_gold = n_pred = pred_ok = gold_found = speaker_ok = e2e = 0
    n_articles = 0
    rules: dict[str, list[int]] = {}
    errors = 0
    seconds = 0.0
    for article in articles:
        n_articles += 1
        started = time.perf_counter()
        try:
            quotes = extractor(article.text)
        except Exception:  # noqa: BLE001 - a baseline that raises scores zero on this article
            quotes = []
            errors += 1
        seconds += time.perf_counter() - started
        gold = list(gold_of(article))
        n_gold += len(gold)
        n_pred += len(quotes)
        pred_ok += sum(any(covers((q.start, q.end), (g.start, g.end)) for g in gold) for q in quotes)
        _count_rules(rules, quotes, gold)
        for g in gold:
            found = [q for q in quotes if covers((q.start, q.end), (g.start, g.end))]
            if found:
                gold_found += 1
                if any(speaker_correct(q, g) for q in found):
                    speaker_ok += 1
                    e2e += 1
    precision = pred_ok / n_pred if n_pred else 0.0
    recall = gold_found / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    e2e_recall = e2e / n_gold if n_gold else 0.0
    e2e_precision = e2e / n_pred if n_pred else 0.0
    e2e_f1 = (
        2 * e2e_precision * e2e_recall / (e2e_precision + e2e_recall) if e2e_precision + e2e_recall else 0.0
    )
    return {
        "articles": n_articles,
        "gold_quotes": n_gold,
        "predicted_quotes": n_pred,
        "span_precision": precision,
        "span_recall": recall,
        "span_f1": f1,
        "speaker_accuracy": speaker_ok / gold_found if gold_found else 0.0,
        "end_to_end_f1": e2e_f1,
        "articles_per_second": n_articles / seconds if seconds else 0.0,
        "extractor_errors": errors,
        "rules": _rule_table(rules),
    }


def _count_rules(rules: dict[str, list[int]], quotes: list[Quote], gold: list[GoldQuote]) -> None:
    """Per rule: quotes it attributed, those that match a gold quote, those with the right speaker."""
    for q in quotes:
        row = rules.setdefault(rule_name(q.rule) or "none", [0, 0, 0])
        row[0] += 1
        matched = [g for g in gold if covers((q.start, q.end), (g.start, g.end))]
        if matched:
            row[1] += 1
            row[2] += any(speaker_correct(q, g) for g in matched)


def _rule_table(rules: dict[str, list[int]]) -> dict[str, dict]:
    """Rules by how many quotes they attributed, with the speaker precision of their matches."""
    return {
        name: {"quotes": n, "matched": m, "speaker_precision": ok / m if m else 0.0}
        for name, (n, m, ok) in sorted(rules.items(), key=lambda item: -item[1][0])
    }


def _kinds_of(cache: dict[str, list[Quote]], kinds: tuple[str, ...]) -> Callable[[str], list[Quote]]:
    return lambda text: [q for q in cache[text] if q.kind in kinds]


def evaluate_quotes(
    path: str | Path | None = None,
    split: str = "dev",
    indirect: bool = True,
    tagger: SpanTagger | None = None,
    batch_size: int = 16,
    show_progress: bool = False,
) -> dict:
    """Score :func:`stance.quotes.extract_quotes` on a PolNeAR split.

    Direct (and mixed) quotes against the quoted parts of each attribution; with ``indirect``,
    reported speech against the attributions whose content has no quote marks, under the keys
    ``indirect_*`` (content overlap: a prediction covers at least half of a gold content).
    ``all_attributions`` holds the CofeNet-style metric over every attribution (each quote's
    text a Content, its mention a Source). With a ``tagger``, the pipeline runs rules and
    tagger together (batched over the articles), and ``tagger_spans`` scores the tagger's own
    spans; without one, the rules alone. ``show_progress`` draws a bar while the tagger reads.
    """
    articles = list(load_polnear(split, path))
    texts = [a.text for a in articles]
    every = ("direct", "mixed", "indirect") if indirect else ("direct", "mixed")
    started = time.perf_counter()
    tagged = (
        tagger.tag_many([decode_entities(t)[0] for t in texts], batch_size, show_progress) if tagger else None
    )
    tag_seconds = time.perf_counter() - started
    found = extract_quotes_many(texts, every, tagged=tagged)
    seconds = time.perf_counter() - started
    result = score_found(articles, found, indirect)
    # one pass over the articles did every kind; its speed replaces the per-kind lookups
    result["articles_per_second"] = len(articles) / seconds if seconds else 0.0
    if tagger is not None and tagged is not None:
        result["tagger_spans"] = _tagger_spans(articles, tagged, tag_seconds)
        result["tagger"] = tagger.name
    else:
        result["tagger"] = None
    result["split"] = split
    return result


def score_found(articles: list[Article], found: list[list[Quote]], indirect: bool = True) -> dict:
    """Scores of quotes already extracted from ``articles`` (one list per article, every kind).

    Direct and mixed against the gold quotations; with ``indirect``, reported statements under
    ``indirect_*``; ``all_attributions`` the CofeNet-style table.
    """
    cache = {a.text: f for a, f in zip(articles, found, strict=True)}
    result = score_articles(articles, _kinds_of(cache, ("direct", "mixed")))
    del result["articles_per_second"]  # it timed lookups in ``found``, not extraction
    if indirect:
        reported = score_articles(articles, _kinds_of(cache, ("indirect",)), lambda a: a.reported)
        result["indirect_gold"] = reported["gold_quotes"]
        result["indirect_predicted"] = reported["predicted_quotes"]
        result["indirect_content_precision"] = reported["span_precision"]
        result["indirect_content_recall"] = reported["span_recall"]
        result["indirect_content_f1"] = reported["span_f1"]
        result["indirect_speaker_accuracy"] = reported["speaker_accuracy"]
        result["indirect_end_to_end_f1"] = reported["end_to_end_f1"]
        result["indirect_rules"] = reported["rules"]
    result["all_attributions"] = score_spans(articles, (pipeline_spans(q) for q in found))
    return result


# Quote marks are not words of the content: exact matching ignores them (and spaces) at the ends,
# so a rule that returns the words inside the marks and a gold span that includes them agree.
_TRIM = " \t\n\r\"“”‘’'«»„`"


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _prf(correct_pred: int, n_pred: int, found_gold: int, n_gold: int) -> tuple[float, float, float]:
    p = correct_pred / n_pred if n_pred else 0.0
    r = found_gold / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def span_scores(text: str, gold: Iterable[tuple[int, int]], pred: Iterable[tuple[int, int]]) -> list[int]:
    """Counts for one role in one article: [pred, gold, exact hits, overlapping preds, overlapped golds]."""
    g = {_trimmed(text, a, b) for a, b in gold}
    p = {_trimmed(text, a, b) for a, b in pred}
    g.discard((0, 0))
    g = {s for s in g if s[1] > s[0]}
    p = {s for s in p if s[1] > s[0]}
    hits = len(g & p)
    pred_overlap = sum(any(a < d and c < b for c, d in g) for a, b in p)
    gold_overlap = sum(any(a < d and c < b for c, d in p) for a, b in g)
    return [len(p), len(g), hits, pred_overlap, gold_overlap]


def role_table(counts: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    """Exact and overlap precision, recall and F1 per role from summed :func:`span_scores` counts."""
    out = {}
    for role, (n_pred, n_gold, hits, pred_ov, gold_ov) in counts.items():
        ep, er, ef = _prf(hits, n_pred, hits, n_gold)
        op, orc, of = _prf(pred_ov, n_pred, gold_ov, n_gold)
        out[role] = {
            "gold": n_gold,
            "predicted": n_pred,
            "exact_precision": ep,
            "exact_recall": er,
            "exact_f1": ef,
            "overlap_precision": op,
            "overlap_recall": orc,
            "overlap_f1": of,
        }
    return out


def score_spans(articles: Iterable[Article], predicted: Iterable[Iterable[tuple[str, int, int]]]) -> dict:
    """The CofeNet-style metric over all attributions: exact and overlap F1 of each role's spans.

    Args:
        articles: gold articles (their ``roles``).
        predicted: per article, ``(role, start, end)`` spans with roles Source, Cue, Content.
    """
    counts: dict[str, list[int]] = {"source": [0] * 5, "cue": [0] * 5, "content": [0] * 5}
    for article, spans in zip(articles, predicted, strict=True):
        spans = list(spans)
        for role in ("Source", "Cue", "Content"):
            gold = [(a, b) for r, a, b in article.roles if r == role]
            pred = [(a, b) for r, a, b in spans if r == role]
            if role == "Cue" and not pred:
                continue  # a system that proposes no cues is not scored on them
            row = span_scores(article.text, gold, pred)
            counts[role.lower()] = [x + y for x, y in zip(counts[role.lower()], row, strict=True)]
    return role_table(counts)


def score_tagger(tagger, articles: list[Article], batch_size: int = 16) -> dict:
    """The tagger's own spans against every PolNeAR attribution, with its speed in articles/s."""
    started = time.perf_counter()
    tagged = tagger.tag_many([a.text for a in articles], batch_size=batch_size)
    return _tagger_spans(articles, tagged, time.perf_counter() - started)


def _tagger_spans(articles: list[Article], tagged: list[list[TaggedSpan]], seconds: float) -> dict:
    result = score_spans(articles, ([(s.role, s.start, s.end) for s in spans] for spans in tagged))
    speed = len(articles) / seconds if seconds else 0.0
    return {**result, "articles": len(articles), "articles_per_second": speed}


def pipeline_spans(quotes: list[Quote]) -> list[tuple[str, int, int]]:
    """A pipeline's quotes as role spans: each quote's statement is a Content, its mention a Source.

    A quote's statement is its text, or for a mixed quote inside a tagged statement that statement.
    """
    spans: set[tuple[str, int, int]] = set()
    for q in quotes:
        if q.statement_start is not None and q.statement_end is not None:
            spans.add(("Content", q.statement_start, q.statement_end))
        else:
            spans.add(("Content", q.start, q.end))
        if q.speaker_start is not None and q.speaker_end is not None:
            spans.add(("Source", q.speaker_start, q.speaker_end))
    return sorted(spans, key=lambda s: s[1:])
