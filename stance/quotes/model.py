"""The result type of the quote splitter."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from stance.quotes.cues import Kind


@dataclass(frozen=True)
class Quote:
    """One quoted or reported statement and who said it.

    Attributes:
        text: the quoted words without the outer marks (for ``indirect``, the reported clause).
        start, end: offsets of ``text`` in the input.
        speaker: the canonical speaker (fullest name in the article), or None.
        speaker_mention: the words that attribute the quote ("he", "the minister", "Jalali"),
            exactly as ``input[speaker_start:speaker_end]``.
        speaker_start, speaker_end: offsets of that mention in the input.
        cue: the reporting word ("said", "told", "according to").
        kind: "direct" (stands as speech), "mixed" (a quoted fragment inside reported speech) or
            "indirect" (reported speech; any quote marks inside are scare quotes or a title).
        paragraph: 0-based paragraph index.
        group: quotes split by their attribution, or run over paragraphs, share a group id.
        rule: the name of the attribution rule that found the speaker (None when nobody was found).
        sentence_start, sentence_end: offsets of the sentence(s) that carry the quote, so that a
            mixed or reported quote can be read with its whole sentence.
        statement_start, statement_end: for a ``mixed`` quote, offsets of the whole reported
            statement its quoted words belong to, as the attribution tagger marked it ("that the
            deal is 'a disaster'" around "a disaster"); None without a tagger, and for direct and
            indirect quotes, whose statement is the quote itself.
    """

    text: str
    start: int
    end: int
    speaker: str | None
    speaker_mention: str | None
    speaker_start: int | None
    speaker_end: int | None
    cue: str | None
    kind: Kind
    paragraph: int
    group: int
    rule: str | None
    sentence_start: int
    sentence_end: int
    statement_start: int | None = None
    statement_end: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)
