"""The splitter's pipeline: read an article sentence by sentence and attribute every quote."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import overload

from stance.lexicon import CUE_VERBS
from stance.quotes.attribution import attribute, attribute_part
from stance.quotes.cues import KINDS, Kind, is_not_speech, quote_kind
from stance.quotes.discourse import Discourse, Speaker
from stance.quotes.entities import Entities, collect_names, note_subjects
from stance.quotes.marks import QuoteSpan, find_quote_spans
from stance.quotes.model import Quote
from stance.quotes.text import Regions, Tok, decode_entities, paragraphs, sentence_bounds, tokenize

DEFAULT_KINDS: tuple[Kind, ...] = ("direct", "mixed")


def normalize_kinds(kinds: str | Iterable[str] | None) -> tuple[Kind, ...]:
    """``"direct,indirect"``, ``["direct"]`` or None (the default) as a tuple of known kinds.

    Raises:
        ValueError: an unknown kind, or none at all.
    """
    if kinds is None:
        return DEFAULT_KINDS
    names = [k.strip() for k in (kinds.split(",") if isinstance(kinds, str) else kinds)]
    unknown = [k for k in names if k not in KINDS]
    if unknown or not names:
        raise ValueError(f"unknown quote kind(s) {unknown or names!r}; choose from {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in names)


@dataclass
class Document:
    """The decoded article with its paragraphs and quotation spans."""

    original: str
    text: str
    offsets: list[int] | None
    paras: list[tuple[int, int]]
    spans: list[QuoteSpan]
    regions: Regions

    @classmethod
    def read(cls, original: str) -> Document:
        text, offsets = decode_entities(original)
        paras = paragraphs(text)
        spans = find_quote_spans(text, paras)
        return cls(original, text, offsets, paras, spans, Regions([s.region for s in spans]))

    @overload
    def orig(self, i: int) -> int: ...

    @overload
    def orig(self, i: None) -> None: ...

    def orig(self, i: int | None) -> int | None:
        """Offset ``i`` of the decoded text, in the original input."""
        return i if i is None or self.offsets is None else self.offsets[i]


@dataclass
class Sentence:
    start: int
    end: int
    paragraph: int
    spans: list[QuoteSpan]
    tokens: list[Tok]


def sentences(doc: Document) -> Iterator[Sentence]:
    """Sentences in reading order, each with the quotations that open in it."""
    pending = iter(doc.spans)
    span = next(pending, None)
    for p_index, (p_start, p_end) in enumerate(doc.paras):
        for s_start, s_end in sentence_bounds(doc.text, p_start, p_end, doc.regions):
            own = []
            while span is not None and span.open_mark < s_end:
                own.append(span)
                span = next(pending, None)
            # a quotation that runs past its sentence's end carries the sentence with it
            end = max([s_end, *(s.end for s in own)])
            yield Sentence(s_start, end, p_index, own, tokenize(doc.text, s_start, end, doc.regions))


def extract_quotes(text: str, kinds: str | Iterable[str] | None = None) -> list[Quote]:
    """Find every quotation (and, if asked, reported statement) in an article and attribute it.

    Args:
        text: the article as plain text (HTML entities are decoded; offsets refer to ``text``).
        kinds: which kinds to return: "direct", "mixed", "indirect" (a list or a comma-separated
            string); default direct and mixed, which need no parser.

    Returns:
        Quotes in reading order. Scare quotes, titles and nicknames are left out.

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: an unknown kind.

    Example:
        >>> [q.speaker for q in extract_quotes('Kazem Jalali spoke. “Good,” Jalali said.')]
        ['Kazem Jalali']
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_quotes expects str, got {type(text).__name__}")
    wanted = normalize_kinds(kinds)
    doc = Document.read(text)
    ents = Entities()
    talk = Discourse(ents)
    quoted: list[Quote] = []
    reported: list[Quote] = []
    read = list(sentences(doc))
    parses = _parse_reported(doc, read) if "indirect" in wanted else {}
    for n, sentence in enumerate(read):
        if sentence.start == doc.paras[sentence.paragraph][0]:
            talk.new_paragraph()
        # names are registered sentence by sentence, so "he" resolves to someone already met
        collect_names(sentence.tokens, ents)
        quotes = _quotes_in(doc, sentence, talk) if sentence.spans else []
        if not quotes:
            ends_with_colon = bool(sentence.tokens) and sentence.tokens[-1].text == ":"
            talk.sentence_without_quotes(sentence.tokens, sentence.paragraph, ends_with_colon)
        quoted.extend(quotes)
        if n in parses:
            reported.extend(_reported_in(doc, sentence, parses[n], talk))
        note_subjects(sentence.tokens, ents)
    found = talk.share_chain_speakers(quoted)
    if reported:
        found = sorted([*found, *reported], key=lambda q: q.start)
    return [q for q in found if q.kind in wanted]


def _parse_reported(doc: Document, read: list[Sentence]) -> dict[int, object]:
    """spaCy parses of the sentences that hold a reporting cue outside quotation marks."""
    from stance.quotes.reported import parse_sentences, worth_parsing

    chosen = [n for n, s in enumerate(read) if worth_parsing(s.tokens)]
    docs = parse_sentences([doc.text[read[n].start : read[n].end] for n in chosen])
    return dict(zip(chosen, docs, strict=True))


def _reported_in(doc: Document, sentence: Sentence, parsed, talk: Discourse) -> list[Quote]:
    from stance.quotes.reported import statements

    regions = [(t.start, t.end) for t in sentence.tokens if t.quote]
    out = []
    for start, end, _att, speaker in statements(
        doc.text, sentence.start, sentence.tokens, parsed, regions, talk
    ):
        talk.group += 1
        out.append(
            build_quote(doc, start, end, speaker, "indirect", sentence.paragraph, talk.group, sentence)
        )
    return out


def _quotes_in(doc: Document, sentence: Sentence, talk: Discourse) -> list[Quote]:
    """Attribute the quotations of one sentence; titles and scare quotes are dropped."""
    tokens = sentence.tokens
    quote_idx = [i for i, t in enumerate(tokens) if t.quote]
    position = {tokens[i].start: n for n, i in enumerate(quote_idx)}
    if not quote_idx:
        return []
    first_kind = quote_kind(doc.text, sentence.spans[0], _before(tokens, quote_idx[0]))
    sentence_att = attribute(tokens, quote_idx, first_kind == "mixed")
    has_cue = sentence_att.cue is not None or any(t.lower in CUE_VERBS for t in tokens)
    keep = [s for s in sentence.spans if not is_not_speech(doc.text, s, sentence.start, has_cue)]
    p_start = doc.paras[sentence.paragraph][0]
    out = []
    for n_span, span in enumerate(keep):
        n = position.get(span.open_mark)
        if n is None:
            continue
        kind = quote_kind(doc.text, span, _before(tokens, quote_idx[n])) if n else first_kind
        att = attribute_part(tokens, quote_idx, n, kind == "mixed") or sentence_att
        opens_paragraph = not doc.text[p_start : span.open_mark].strip()
        speaker, group = talk.speaker_for(span, att, n_span, sentence.paragraph, opens_paragraph)
        out.append(build_quote(doc, span.start, span.end, speaker, kind, span.paragraph, group, sentence))
    return out


def _before(tokens: list[Tok], i: int) -> Tok | None:
    return tokens[i - 1] if i > 0 else None


def build_quote(
    doc: Document,
    start: int,
    end: int,
    speaker: Speaker,
    kind: Kind,
    paragraph: int,
    group: int,
    sentence: Sentence,
) -> Quote:
    """A :class:`Quote` with offsets (and texts sliced) in the original input."""
    text = doc.text
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    mention = speaker.mention
    o_start, o_end = doc.orig(start), doc.orig(end)
    m_start = doc.orig(mention.start) if mention else None
    m_end = doc.orig(mention.end) if mention else None
    return Quote(
        text=doc.original[o_start:o_end],
        start=o_start,
        end=o_end,
        speaker=speaker.name,
        speaker_mention=doc.original[m_start:m_end] if mention else None,
        speaker_start=m_start,
        speaker_end=m_end,
        cue=speaker.cue,
        kind=kind,
        paragraph=paragraph,
        group=group,
        rule=speaker.rule if (speaker.mention or speaker.name) else None,
        sentence_start=doc.orig(sentence.start),
        sentence_end=doc.orig(sentence.end),
    )
