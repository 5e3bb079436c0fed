"""``analyze(text, topics)``: who said what in an article, and where each speaker stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

from stance.labels import LABELS
from stance.quotes import KINDS, Quote, extract_quotes, normalize_kinds, paragraphs


@dataclass(frozen=True)
class TopicStance:
    topic: str
    label: str
    score: float
    scores: dict[str, float]


@dataclass(frozen=True)
class QuoteAnalysis:
    quote: Quote
    context: str
    stances: tuple[TopicStance, ...]

    def to_dict(self) -> dict:
        return {**self.quote.to_dict(), "stances": [asdict(s) for s in self.stances]}


@dataclass(frozen=True)
class SpeakerSummary:
    """Per speaker and topic: quote count (in all and per kind), majority stance and mean scores."""

    speaker: str
    topic: str
    quotes: int
    kinds: dict[str, int]
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


def quote_context(
    text: str, quote: Quote, max_chars: int = 600, spans: Sequence[tuple[int, int]] | None = None
) -> str:
    """The quote's paragraph, so that 'the accord' can be read against the article.

    ``spans`` are ``paragraphs(text)``, computed once per article by the caller that has many quotes.
    """
    spans = paragraphs(text) if spans is None else spans
    if 0 <= quote.paragraph < len(spans):
        start, end = spans[quote.paragraph]
        if start <= quote.start <= end:
            return text[start:end][:max_chars]
    return text[max(0, quote.start - max_chars // 2) : quote.end + max_chars // 2]


def quote_reading(text: str, quote: Quote) -> str:
    """What the stance model reads: a direct quote's words, or the whole sentence that carries a
    mixed or reported quote ("Lavrov criticized the sanctions" holds the stance, not the fragment)."""
    if quote.kind == "direct":
        return quote.text
    return text[quote.sentence_start : quote.sentence_end].strip() or quote.text


PredictFn = Callable[[list[str], list[str], list[str | None]], list]


def majority_label(counts: dict[str, int], means: dict[str, float]) -> str:
    """The most frequent label; ties go to the label with the higher mean probability."""
    return max(LABELS, key=lambda label: (counts.get(label, 0), means[label]))


def summarize(quotes: Sequence[QuoteAnalysis]) -> tuple[SpeakerSummary, ...]:
    """Majority stance and mean scores per (speaker, topic); unnamed speakers are skipped."""
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
        kinds = {kind: sum(k == kind for k, _ in pairs) for kind in KINDS}
        out.append(SpeakerSummary(speaker, topic, len(stances), kinds, majority_label(counts, means), means))
    return tuple(out)


def analyze(
    text: str,
    topics: str | Sequence[str],
    model=None,
    predict: PredictFn | None = None,
    batch_size: int = 32,
    kinds: str | Iterable[str] | None = None,
) -> Analysis:
    """Extract quotes and classify each one's stance toward every topic.

    The model reads a direct quote's words, and the sentence that carries a mixed or reported
    quote; the context is the quote's paragraph.

    Args:
        text: the article.
        topics: one topic or several ("the JCPOA", "Afghanistan").
        model: a :class:`stance.model.StanceClassifier` (or give ``predict``).
        predict: ``(texts, topics, contexts) -> list[StancePrediction]``; the service passes its
            micro-batcher here.
        kinds: quote kinds to label ("direct", "mixed", "indirect"); default all.

    Returns:
        An :class:`Analysis` with quotes (each with one stance per topic) and speaker summaries.

    Raises:
        ValueError: no topics, an empty topic, an unknown kind, or neither model nor predict.

    Example:
        >>> analysis = analyze(article, ["the JCPOA"], StanceClassifier.from_pretrained("models/default"))
    """
    topic_list = [topics] if isinstance(topics, str) else list(topics)
    if not topic_list or any(not isinstance(t, str) or not t.strip() for t in topic_list):
        raise ValueError("topics must be one or more non-empty strings")
    if predict is None:
        if model is None:
            raise ValueError("give a model or a predict function")

        def predict(texts, tops, contexts):
            return model.predict(texts, tops, batch_size=batch_size, contexts=contexts)

    wanted = KINDS if kinds is None else normalize_kinds(kinds)
    quotes = [q for q in extract_quotes(text, kinds=wanted) if q.text.strip()]
    spans = paragraphs(text)
    contexts = [quote_context(text, q, spans=spans) for q in quotes]
    texts = [quote_reading(text, q) for q in quotes for _ in topic_list]
    pair_topics = [t for _ in quotes for t in topic_list]
    pair_contexts = [c for c in contexts for _ in topic_list]
    preds = predict(texts, pair_topics, pair_contexts) if texts else []
    analyses = []
    for i, (quote, context) in enumerate(zip(quotes, contexts, strict=True)):
        chunk = preds[i * len(topic_list) : (i + 1) * len(topic_list)]
        stances = tuple(
            TopicStance(topic, p.label, p.score, dict(p.scores))
            for topic, p in zip(topic_list, chunk, strict=True)
        )
        analyses.append(QuoteAnalysis(quote, context, stances))
    return Analysis(tuple(analyses), summarize(analyses))
