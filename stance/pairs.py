"""What the stance model reads and what it says: one quote x topic pair in, one prediction out.

Every caller builds :class:`StancePair` values (the analysis, the corpus stages, the service's
routes) and hands them on unchanged: :meth:`stance.model.classifier.StanceClassifier.predict`, the service's
micro-batcher and the corpus all take a list of pairs and give back one
:class:`StancePrediction` per pair, in order. Plain Python (no torch), so the HTTP layer and the
corpus can build pairs without loading the model.

Example:
    >>> pair = StancePair("We will not sign the accord.", "the JCPOA")
    >>> as_pairs(["We will not sign."], "the JCPOA")[0] == StancePair("We will not sign.", "the JCPOA")
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from stance.errors import InputError

__all__ = ["StancePair", "StancePrediction", "as_pairs", "check_pair", "require_text"]


@dataclass(frozen=True)
class StancePair:
    """One quote x topic: what the model reads, the topic, and optional context read after it.

    Attributes:
        reading: a direct quote's words, or the sentence that carries a mixed or reported quote.
        topic: the topic the stance is toward ("the JCPOA").
        context: the quote's paragraph, read after the reading; None for none.
    """

    reading: str
    topic: str
    context: str | None = None


@dataclass(frozen=True)
class StancePrediction:
    """Stance of one text toward one topic: the top label, its probability, and all three."""

    label: str
    score: float
    scores: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def require_text(value: object, what: str, optional: bool = False) -> None:
    """Refuse a value that is not a non-empty string, or that cannot be written as UTF-8.

    With ``optional``, None and the empty string pass (a context may be absent).

    Raises:
        InputError: naming ``what`` (``"items[3].topic"``) and what is wrong with it.

    Example:
        >>> require_text("x\\ud800", "topics[0]")
        Traceback (most recent call last):
        ...
        stance.errors.InputError: topics[0] holds an unpaired surrogate (character 1), which is not text
    """
    if optional and (value is None or value == ""):
        return
    if not isinstance(value, str) or not (optional or value.strip()):
        raise InputError(f"{what} is empty or not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InputError(
            f"{what} holds an unpaired surrogate (character {err.start}), which is not text"
        ) from None


def check_pair(pair: StancePair, where: str = "pair") -> None:
    """Refuse a pair whose reading or topic is empty, or any of whose texts is not UTF-8-encodable.

    Raises:
        InputError: naming the field (``items[3].topic``) and what is wrong.
    """
    require_text(pair.reading, f"{where}.reading")
    require_text(pair.topic, f"{where}.topic")
    require_text(pair.context, f"{where}.context", optional=True)


def _as_list(value: str | Sequence[str | None] | None, n: int, name: str) -> list[str | None]:
    if value is None:
        return [None] * n
    if isinstance(value, str):
        return [value] * n
    value = list(value)
    if len(value) == 1 and n > 1:
        return value * n
    if len(value) != n:
        raise InputError(f"{name}: got {len(value)} values for {n} texts; give one or one per text")
    return value


def as_pairs(
    texts: str | Sequence[str],
    topics: str | Sequence[str],
    contexts: str | Sequence[str | None] | None = None,
) -> list[StancePair]:
    """Texts, topics and contexts as pairs: one topic (or context) for all texts, or one per text.

    Raises:
        InputError: an empty text or topic, a non-string, text that is not UTF-8-encodable, or a
            topics/contexts list of the wrong length.
    """
    text_list = [texts] if isinstance(texts, str) else list(texts)
    n = len(text_list)
    topic_list = _as_list(topics, n, "topics")
    context_list = _as_list(contexts, n, "contexts")
    for i in range(n):
        require_text(text_list[i], f"texts[{i}]")
        require_text(topic_list[i], f"topics[{i}]")
        require_text(context_list[i], f"contexts[{i}]", optional=True)
    return [
        StancePair(reading, topic, context)  # type: ignore[arg-type]  # checked above
        for reading, topic, context in zip(text_list, topic_list, context_list, strict=True)
    ]
