"""``analyze(text, topics)``: who said what in an article, and where each speaker stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from stance.labels import LABELS
from stance.quotes import Quote, extract_quotes, paragraphs


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
    """Per speaker and topic: quote count, majority stance and mean scores."""

    speaker: str
    topic: str
    quotes: int
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


def quote_context(text: str, quote: Quote, max_chars: int = 600) -> str:
    """The paragraph around a quote, so that 'the accord' can be read against the article."""
    for start, end in paragraphs(text):
        if start <= quote.start < end or start < quote.end <= end:
            return text[start:end][:max_chars]
    return text[max(0, quote.start - max_chars // 2) : quote.end + max_chars // 2]


PredictFn = Callable[[list[str], list[str], list[str | None]], list]


def majority_label(counts: dict[str, int], means: dict[str, float]) -> str:
    """The most frequent label; ties go to the label with the higher mean probability."""
    return max(LABELS, key=lambda label: (counts.get(label, 0), means[label]))


def summarize(quotes: Sequence[QuoteAnalysis]) -> tuple[SpeakerSummary, ...]:
    """Majority stance and mean scores per (speaker, topic); unnamed speakers are skipped."""
    groups: dict[tuple[str, str], list[TopicStance]] = defaultdict(list)
    for qa in quotes:
        if qa.quote.speaker:
            for stance in qa.stances:
                groups[(qa.quote.speaker, stance.topic)].append(stance)
    out = []
    for (speaker, topic), stances in groups.items():
        counts = {label: sum(s.label == label for s in stances) for label in LABELS}
        means = {label: sum(s.scores[label] for s in stances) / len(stances) for label in LABELS}
        out.append(SpeakerSummary(speaker, topic, len(stances), majority_label(counts, means), means))
    return tuple(out)


def analyze(
    text: str,
    topics: str | Sequence[str],
    model=None,
    predict: PredictFn | None = None,
    batch_size: int = 32,
) -> Analysis:
    """Extract quotes and classify each one's stance toward every topic.

    Args:
        text: the article.
        topics: one topic or several ("the JCPOA", "Afghanistan").
        model: a :class:`stance.model.StanceClassifier` (or give ``predict``).
        predict: ``(texts, topics, contexts) -> list[StancePrediction]``; the service passes its
            micro-batcher here.

    Returns:
        An :class:`Analysis` with quotes (each with one stance per topic) and speaker summaries.

    Raises:
        ValueError: no topics, an empty topic, or neither model nor predict.

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

    quotes = [q for q in extract_quotes(text) if q.text.strip()]
    contexts = [quote_context(text, q) for q in quotes]
    texts = [q.text for q in quotes for _ in topic_list]
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
