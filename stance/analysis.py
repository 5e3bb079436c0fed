"""``analyze(text, topics)``: who said what in an article, and where each speaker stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace

from stance.errors import InputError
from stance.labels import LABELS, UNCERTAIN
from stance.pairs import StancePair, StancePrediction
from stance.quotes import KINDS, Kind, Quote, normalize_kinds, paragraphs
from stance.quotes.pipeline import extract_quotes_auto


@dataclass(frozen=True)
class TopicStance(StancePrediction):
    """A quote's :class:`StancePrediction` toward one of the analysis's topics."""

    topic: str

    @classmethod
    def of(cls, topic: str, prediction: StancePrediction) -> TopicStance:
        return cls(prediction.label, prediction.score, dict(prediction.scores), topic)

    def to_dict(self) -> dict:
        return {"topic": self.topic, "label": self.label, "score": self.score, "scores": dict(self.scores)}


@dataclass(frozen=True)
class QuoteAnalysis:
    quote: Quote
    context: str
    stances: tuple[TopicStance, ...]

    def to_dict(self) -> dict:
        return {**self.quote.to_dict(), "stances": [s.to_dict() for s in self.stances]}


@dataclass(frozen=True)
class SpeakerSummary:
    """Per speaker and topic: quote count (in all and per kind), majority stance and mean scores."""

    speaker: str
    topic: str
    quotes: int
    kinds: dict[Kind, int]
    stance: str
    mean_scores: dict[str, float]


@dataclass(frozen=True)
class Analysis:
    quotes: tuple[QuoteAnalysis, ...]
    speakers: tuple[SpeakerSummary, ...]

    def to_dict(self) -> dict:
        return {
            "quotes": [q.to_dict() for q in self.quotes],
            "speakers": [asdict(s) for s in self.speakers],
        }


# 600 characters is about 120 words, past what the model's 96-128 token window reads after
# the quote anyway; a longer paragraph would only cost tokenisation time.
CONTEXT_CHARS = 600


def _context(text: str, paras: list[tuple[int, int]], quote: Quote, max_chars: int) -> str:
    if 0 <= quote.paragraph < len(paras):
        start, end = paras[quote.paragraph]
        if start <= quote.start < end or start < quote.end <= end:
            return text[start:end][:max_chars]
    # entity decoding can shift paragraph indexes; fall back to a window around the quote
    return text[max(0, quote.start - max_chars // 2) : quote.end + max_chars // 2]


def quote_reading(text: str, quote: Quote) -> str:
    """What the stance model reads: a direct quote's words, or the whole sentence that carries a
    mixed or reported quote ("Lavrov criticized the sanctions" holds the stance, not the fragment)."""
    if quote.kind == "direct":
        return quote.text
    return text[quote.sentence_start : quote.sentence_end].strip() or quote.text


def quote_context(text: str, quote: Quote, max_chars: int = CONTEXT_CHARS) -> str:
    """The paragraph of a quote (``Quote.paragraph``), so 'the accord' is read against the article.

    For several quotes of one text use :func:`quote_contexts`, which splits the text once.
    """
    return _context(text, paragraphs(text), quote, max_chars)


def quote_contexts(text: str, quotes: Sequence[Quote], max_chars: int = CONTEXT_CHARS) -> list[str]:
    """:func:`quote_context` of each quote, splitting the text into paragraphs once."""
    paras = paragraphs(text) if quotes else []
    return [_context(text, paras, q, max_chars) for q in quotes]


def quotes_with_context(
    text: str, kinds: str | Iterable[str] | None = None, max_chars: int = CONTEXT_CHARS
) -> list[tuple[Quote, str]]:
    """Every non-empty quote of the given kinds (default all) with its paragraph.

    The text is split into paragraphs once. This is the text-only stage of :func:`analyze` (no
    stance model), which the service runs in a worker process. Quotes come from
    :func:`~stance.quotes.pipeline.extract_quotes_auto`: the attribution tagger beside the rules
    when one is configured (loaded once per process), as ``stance quotes`` and ``/v1/quotes`` read.
    """
    wanted = KINDS if kinds is None else normalize_kinds(kinds)
    quotes = [q for q in extract_quotes_auto(text, kinds=wanted) if q.text.strip()]
    return list(zip(quotes, quote_contexts(text, quotes, max_chars), strict=True))


def quote_pairs(text: str, quote: Quote, context: str | None, topics: Sequence[str]) -> list[StancePair]:
    """One quote against each topic: what the model reads (:func:`quote_reading`), with its context."""
    reading = quote_reading(text, quote)
    return [StancePair(reading, topic, context) for topic in topics]


def stance_pairs(text: str, found: Sequence[tuple[Quote, str]], topics: Sequence[str]) -> list[StancePair]:
    """Every quote x topic pair, quote-major, for one predict call (:func:`assemble` reads them back)."""
    return [pair for quote, context in found for pair in quote_pairs(text, quote, context, topics)]


def apply_min_confidence(
    preds: Sequence[StancePrediction], min_confidence: float | None
) -> list[StancePrediction]:
    """Predictions whose top probability is under ``min_confidence`` relabelled ``uncertain``.

    The probabilities stay as they were; None (the default everywhere) changes nothing.

    Raises:
        InputError: ``min_confidence`` outside 0 to 1.

    Example:
        >>> apply_min_confidence([StancePrediction("favor", 0.4, {})], 0.5)[0].label
        'uncertain'
    """
    if min_confidence is None:
        return list(preds)
    if not 0.0 <= min_confidence <= 1.0:
        raise InputError(f"min_confidence={min_confidence}; expected a probability from 0 to 1")
    return [replace(p, label=UNCERTAIN) if p.score < min_confidence else p for p in preds]


def assemble(
    found: Sequence[tuple[Quote, str]],
    topics: Sequence[str],
    preds: Sequence[StancePrediction],
    min_confidence: float | None = None,
) -> Analysis:
    """Join quotes, contexts and the predictions for :func:`stance_pairs` into an :class:`Analysis`.

    Predictions under ``min_confidence`` become ``uncertain`` (:func:`apply_min_confidence`).
    """
    preds = apply_min_confidence(preds, min_confidence)
    analyses = []
    for i, (quote, context) in enumerate(found):
        chunk = preds[i * len(topics) : (i + 1) * len(topics)]
        stances = tuple(TopicStance.of(topic, p) for topic, p in zip(topics, chunk, strict=True))
        analyses.append(QuoteAnalysis(quote, context, stances))
    return Analysis(tuple(analyses), summarize(analyses))


def normalize_topics(topics: str | Sequence[str]) -> list[str]:
    """One topic or several, as a list; raises InputError for none or an empty one."""
    topic_list = [topics] if isinstance(topics, str) else list(topics)
    if not topic_list or any(not isinstance(t, str) or not t.strip() for t in topic_list):
        raise InputError("topics must be one or more non-empty strings")
    return topic_list


PredictFn = Callable[[list[StancePair]], list[StancePrediction]]


def majority_label(counts: dict[str, int], means: dict[str, float]) -> str:
    """The most frequent label; ties go to the label with the higher mean probability.

    Only favor, against and none are counted; with none of them (every stance ``uncertain``)
    the answer is ``uncertain``.
    """
    if not any(counts.get(label, 0) for label in LABELS):
        return UNCERTAIN
    return max(LABELS, key=lambda label: (counts.get(label, 0), means[label]))


def summarize(quotes: Sequence[QuoteAnalysis]) -> tuple[SpeakerSummary, ...]:
    """Majority stance and mean scores per (speaker, topic); unnamed speakers are skipped.

    ``uncertain`` stances count toward ``quotes`` and the mean scores but not toward the majority.
    """
    groups: dict[tuple[str, str], list[tuple[str, TopicStance]]] = defaultdict(list)
    for qa in quotes:
        if qa.quote.speaker:
            for stance in qa.stances:
                groups[(qa.quote.speaker, stance.topic)].append((qa.quote.kind, stance))
    out = []
    for (speaker, topic), pairs in groups.items():
        stances = [s for _, s in pairs]
        counts = {label: sum(s.label == label for s in stances) for label in LABELS}
        means = {label: sum(s.scores[label] for s in stances) / len(stances) for label in LABELS}
        kinds: dict[Kind, int] = {kind: sum(k == kind for k, _ in pairs) for kind in KINDS}
        out.append(SpeakerSummary(speaker, topic, len(stances), kinds, majority_label(counts, means), means))
    return tuple(out)


def analyze(
    text: str,
    topics: str | Sequence[str],
    model=None,
    predict: PredictFn | None = None,
    batch_size: int = 32,
    kinds: str | Iterable[str] | None = None,
    min_confidence: float | None = None,
) -> Analysis:
    """Extract quotes and classify each one's stance toward every topic.

    The model reads a direct quote's words, and the sentence that carries a mixed or reported
    quote; the context is the quote's paragraph.

    Args:
        text: the article.
        topics: one topic or several ("the JCPOA", "Afghanistan").
        model: a :class:`stance.model.classifier.StanceClassifier` (or give ``predict``).
        predict: ``(list[StancePair]) -> list[StancePrediction]``, one prediction per pair in
            order (instead of ``model``).
        kinds: quote kinds to label ("direct", "mixed", "indirect"); default all.
        min_confidence: report a stance whose probability is under this as ``uncertain``
            (not counted in the speaker summaries); default None, off.

    Returns:
        An :class:`Analysis` with quotes (each with one stance per topic) and speaker summaries.

    Raises:
        InputError: no topics, an empty topic, an unknown kind, neither model nor predict, or a
            ``min_confidence`` outside 0 to 1.

    Example:
        >>> analysis = analyze(article, ["the JCPOA"], StanceClassifier.from_pretrained("models/default"))
    """
    topic_list = normalize_topics(topics)
    apply_min_confidence([], min_confidence)  # refuse a bad threshold before any work
    if predict is None:
        if model is None:
            raise InputError("give a model or a predict function")

        def predict(pairs: list[StancePair]) -> list[StancePrediction]:
            return model.predict(pairs, batch_size=batch_size)

    found = quotes_with_context(text, kinds)
    pairs = stance_pairs(text, found, topic_list)
    preds = predict(pairs) if pairs else []
    return assemble(found, topic_list, preds, min_confidence)
