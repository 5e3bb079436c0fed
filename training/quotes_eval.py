"""Score the quote splitter on PolNeAR: span P/R/F1, speaker accuracy, end-to-end F1, speed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from stance.quotes import Quote, extract_quotes
from training.polnear import Article, GoldQuote, load_polnear

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
        row = rules.setdefault(q.rule or "none", [0, 0, 0])
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


def _direct(text: str) -> list[Quote]:
    return extract_quotes(text, kinds=("direct", "mixed"))


def _indirect(text: str) -> list[Quote]:
    return extract_quotes(text, kinds=("indirect",))


def evaluate_quotes(path: str | Path | None = None, split: str = "dev", indirect: bool = True) -> dict:
    """Score :func:`stance.quotes.extract_quotes` on a PolNeAR split.

    Direct (and mixed) quotes against the quoted parts of each attribution; with ``indirect``,
    reported speech against the attributions whose content has no quote marks, under the keys
    ``indirect_*`` (content overlap: a prediction covers at least half of a gold content).
    """
    articles = list(load_polnear(split, path))
    result = score_articles(articles, _direct)
    if indirect:
        reported = score_articles(articles, _indirect, lambda a: a.reported)
        result["indirect_gold"] = reported["gold_quotes"]
        result["indirect_predicted"] = reported["predicted_quotes"]
        result["indirect_content_precision"] = reported["span_precision"]
        result["indirect_content_recall"] = reported["span_recall"]
        result["indirect_content_f1"] = reported["span_f1"]
        result["indirect_speaker_accuracy"] = reported["speaker_accuracy"]
        result["indirect_end_to_end_f1"] = reported["end_to_end_f1"]
        result["indirect_articles_per_second"] = reported["articles_per_second"]
        result["indirect_rules"] = reported["rules"]
    result["split"] = split
    return result
