"""The splitter's pipeline: read an article sentence by sentence and attribute every quote."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, overload

from stance.lexicon import CUE_VERBS, NAMING_CUES, PRONOUNS
from stance.quotes.attribution import attribute, attribute_part
from stance.quotes.cues import KINDS, Kind, is_not_speech, quote_kind
from stance.quotes.discourse import Discourse, Speaker
from stance.quotes.entities import Entities, collect_names, note_subjects
from stance.quotes.marks import QuoteSpan, find_quote_spans
from stance.quotes.model import Quote
from stance.quotes.tagged import TaggedAttribution, group_spans, rules_speaker, tagged_speaker
from stance.quotes.tagger import whole_words
from stance.quotes.text import Regions, Tok, decode_entities, paragraphs, sentence_bounds, tokenize
from stance.quotes.transcript import transcript_turns, with_turns

if TYPE_CHECKING:
    from stance.quotes.tagger import SpanTagger, TaggedSpan

DEFAULT_KINDS: tuple[Kind, ...] = ("direct", "mixed")
# Who speaks a quotation the rules kept, when the tagger proposes a source too: "fill" keeps the
# rules' speaker and takes the tagger's only where the rules found nobody; "weak" also where a rule
# of WEAK_RULES found it; "tagger" always prefers the tagger's. Chosen by measurement on PolNeAR
# dev (docs/quotes.md).
SourcePolicy = Literal["fill", "weak", "tagger"]
SOURCE_POLICY: SourcePolicy = "tagger"
# the rules with the lowest speaker precision on PolNeAR dev (stance evaluate-quotes, per-rule table)
WEAK_RULES = frozenset({"sentence_subject", "cue_subject"})
# the rules whose speaker no tagger source replaces, under every policy: on PolNeAR dev, where the
# two disagreed, the rule was right 15 times to 0 for "“…” ― Name" and 5 to 0 for "X said, saying
# “…”" (the tagger took the byline of the quote before; benchmarks/tagger_merge.py scores it)
RULES_KEEP = frozenset({"dash_byline", "saying"})
# a rule's mention inside a tagged Source is reported as that Source (see _tagged_source_mentions)
WIDEN_TO_TAGGED_SOURCE = True


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


def extract_quotes(
    text: str, kinds: str | Iterable[str] | None = None, tagger: SpanTagger | None = None
) -> list[Quote]:
    """Find every quotation (and, if asked, reported statement) in an article and attribute it.

    Args:
        text: the article as plain text (HTML entities are decoded; offsets refer to ``text``).
        kinds: which kinds to return: "direct", "mixed", "indirect" (a list or a comma-separated
            string); default direct and mixed, which need no parser.
        tagger: an :class:`~stance.quotes.tagger.AttributionTagger` or an ensemble of them; with it,
            reported statements come from the tagger (not from spaCy) and it proposes sources
            (``rule`` "tagger:P").

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
    return _extract(doc, wanted, tagger.tag(doc.text) if tagger is not None else None)


def extract_quotes_auto(text: str, kinds: str | Iterable[str] | None = None) -> list[Quote]:
    """:func:`extract_quotes` with the attribution tagger when one is on disk, else the rules alone.

    The tagger is ``STANCE_TAGGER_PATH`` (empty: none), else ``models/attribution`` if present;
    it is loaded once per process. The service's workers and the corpus runner call this.
    """
    from stance.quotes.tagger import shared_tagger

    return extract_quotes(text, kinds, tagger=shared_tagger())


def extract_quotes_many(
    texts: Sequence[str],
    kinds: str | Iterable[str] | None = None,
    tagger: SpanTagger | None = None,
    batch_size: int = 16,
    tagged: Sequence[list[TaggedSpan]] | None = None,
) -> list[list[Quote]]:
    """:func:`extract_quotes` over many articles, the tagger's windows batched across them.

    Args:
        tagged: the tagger's spans of each text after :func:`decode_entities` (when already
            computed, as the evaluation does); ``tagger`` is then not called.

    Returns:
        One list of quotes per text, in input order.
    """
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
    wanted = normalize_kinds(kinds)
    docs = [Document.read(t) for t in texts]
    if tagged is None and tagger is not None:
        tagged = tagger.tag_many([d.text for d in docs], batch_size=batch_size)
    if tagged is None:
        return [_extract(d, wanted, None) for d in docs]
    return [_extract(d, wanted, t) for d, t in zip(docs, tagged, strict=True)]


def _extract(doc: Document, wanted: tuple[Kind, ...], tagged: list[TaggedSpan] | None) -> list[Quote]:
    """The pipeline on one decoded article; ``tagged``: the tagger's spans, or None (rules only)."""
    ents = Entities()
    talk = Discourse(ents)
    quoted: list[Quote] = []
    reported: list[Quote] = []
    read = list(sentences(doc))
    parses = _parse_reported(doc, read) if "indirect" in wanted and tagged is None else {}
    starts = [s.start for s in read]
    grouped = group_spans(tagged, [(s.start, s.end) for s in read]) if tagged else []
    pending = sorted(grouped, key=lambda a: a.last)
    proposals: list[tuple[TaggedAttribution, Speaker, Sentence]] = []
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
        # an attribution is resolved once its last part is read, so "he" finds someone already met
        while pending and pending[0].last < sentence.end:
            att = pending.pop(0)
            home = _sentence_at(read, starts, att.source.start if att.source else att.content.start)
            speaker = tagged_speaker(att, doc.text, home.tokens, ents)
            lo = _sentence_index(starts, att.content.start)
            hi = _sentence_index(starts, max(att.content.start, att.content.end - 1))
            first, last = read[lo], read[hi]
            if speaker.mention is None and not _in_quotation(doc, att.content):
                # the tagger tagged no source for it: the sentence's cue rules may name one
                tokens = [t for s in read[lo : hi + 1] for t in s.tokens]
                speaker = rules_speaker(att.content, tokens, ents) or speaker
            carried = Sentence(first.start, max(first.end, last.end), first.paragraph, [], [])
            proposals.append((att, speaker, carried))
        note_subjects(sentence.tokens, ents)
    found = talk.share_chain_speakers(quoted)
    if proposals:
        found, reported = _merge_tagged(doc, found, proposals, talk)
    if reported:
        found = sorted([*found, *reported], key=lambda q: q.start)
    if tagged and WIDEN_TO_TAGGED_SOURCE:
        found = _tagged_source_mentions(doc, found, tagged)
    # a transcript's turns are read by their labels, whatever the rules or the tagger made of them
    found = with_turns(
        found, transcript_turns(doc.text, doc.paras, ents), doc.original, doc.orig, talk.group + 1
    )
    return [q for q in found if q.kind in wanted]


_MARKS = set('"“”«»„')
# A tagged content holding quotation marks that no kept quotation covers (the rules judged them
# scare quotes or a title: 'Clinton says the Ohio native nicknamed “King James” is ...') is a
# reported statement when words lie outside its marks; False leaves every such content out (the
# choice before the twenty-third session; docs/experiments.md, session 23).
REPORT_MARKED_CONTENTS = True


def _merge_tagged(
    doc: Document,
    quoted: list[Quote],
    proposals: list[tuple[TaggedAttribution, Speaker, Sentence]],
    talk: Discourse,
) -> tuple[list[Quote], list[Quote]]:
    """Rules' quotations with the tagger's sources proposed for them, and the tagger's reported statements.

    A tagged content that overlaps a kept quotation proposes its source (by ``SOURCE_POLICY``) and,
    for a mixed quotation, is its statement (``Quote.statement_start``); one that is only a quotation
    the rules dropped (a scare quote, a title, a stray mark) is no statement; one whose cue names a
    thing (``NAMING_CUES``: "known as") is no statement; any other is a reported statement, scare
    quotes inside it included (``REPORT_MARKED_CONTENTS``).
    """
    out = list(quoted)
    reported = []
    for att, speaker, sentence in proposals:
        c_start, c_end = doc.orig(att.content.start), doc.orig(att.content.end)
        hits = [i for i, q in enumerate(out) if q.start < c_end and c_start < q.end]
        if hits:
            for i in hits:
                q = out[i]
                if q.kind == "mixed" and q.statement_start is None:
                    q = replace(q, statement_start=c_start, statement_end=c_end)
                if q.rule not in RULES_KEEP and (
                    SOURCE_POLICY == "tagger"
                    or (q.speaker is None and q.speaker_mention is None)
                    or (SOURCE_POLICY == "weak" and q.rule in WEAK_RULES)
                ):
                    q = _with_speaker(doc, q, speaker)  # unchanged when the tagger named no one
                out[i] = q
            continue
        marked = any(ch in _MARKS for ch in doc.text[att.content.start : att.content.end])
        if marked and not (REPORT_MARKED_CONTENTS and _words_outside_quotations(doc, att.content)):
            continue
        if _names_a_thing(doc.text, att):
            continue
        talk.group += 1
        quote = build_quote(
            doc,
            att.content.start,
            att.content.end,
            speaker,
            "indirect",
            sentence.paragraph,
            talk.group,
            sentence,
        )
        reported.append(replace(quote, rule=speaker.rule))  # the tagger decided it, speaker or not
    return out, reported


def _names_a_thing(text: str, att: TaggedAttribution) -> bool:
    """Whether the cue of ``att`` names a thing (``NAMING_CUES``): as tagged ("known as"), with the
    words up to its content ("known" tagged, "as" not: "the 2015 nuclear deal, known as the JCPOA")
    or with the words just before it ("as" tagged, "known" not)."""
    if att.cue is None:
        return False
    cue = text[att.cue.start : att.cue.end].lower().split()
    gap = text[att.cue.end : att.content.start].lower().split() if att.cue.end <= att.content.start else []
    before = text[max(0, att.cue.start - 40) : att.cue.start].lower().split()[-2:]
    return any(
        " ".join(before[k:] + cue + tail) in NAMING_CUES for k in range(len(before) + 1) for tail in ([], gap)
    )


def _tagged_source_mentions(doc: Document, quotes: list[Quote], tagged: list[TaggedSpan]) -> list[Quote]:
    """Each mention that lies inside a tagged Source reported as that whole Source.

    The rules find a speaker's name ("Rep. G.K. Butterfield"), the tagger PolNeAR's Source, the
    noun phrase that attributes ("Rep. G.K. Butterfield (D-N.C.), head of the Congressional Black
    Caucus"); the speaker (the resolved name) and the rule that found it stay. A pronoun stays the
    pronoun ("he" of "he’s", see :func:`~stance.quotes.mentions.pronoun_part`), and a Source that
    runs into a tagged Cue ("Trump said, and Clinton’s aide") is no noun phrase to widen to.
    """
    cues = [(span.start, span.end) for span in tagged if span.role == "Cue"]
    sources = []
    for span in tagged:
        if span.role != "Source" or any(a < span.end and span.start < b for a, b in cues):
            continue
        span = whole_words(doc.text, span)
        sources.append((doc.orig(span.start), doc.orig(span.end)))
    out = []
    for q in quotes:
        if (
            q.speaker_start is not None
            and q.speaker_end is not None
            and (q.speaker_mention or "").lower() not in PRONOUNS
        ):
            m_start, m_end = q.speaker_start, q.speaker_end
            around = [(a, b) for a, b in sources if a <= m_start and m_end <= b and b - a > m_end - m_start]
            if around:
                a, b = min(around, key=lambda s: s[1] - s[0])
                q = replace(q, speaker_start=a, speaker_end=b, speaker_mention=doc.original[a:b])
        out.append(q)
    return out


def _words_outside_quotations(doc: Document, span: TaggedSpan) -> bool:
    """Whether ``span`` holds a letter or digit outside every quotation (marks included) of ``doc``:
    a content that is one dropped quotation, or a stray mark, is no statement of its own."""
    regions = doc.regions
    return any(
        ch.isalnum() and not regions.inside(i)
        for i, ch in enumerate(doc.text[span.start : span.end], start=span.start)
    )


def _sentence_index(starts: list[int], pos: int) -> int:
    """Index of the last sentence that starts at or before ``pos``."""
    return max(0, bisect_right(starts, pos) - 1)


def _sentence_at(read: list[Sentence], starts: list[int], pos: int) -> Sentence:
    """The last sentence that starts at or before ``pos``."""
    return read[_sentence_index(starts, pos)]


def _in_quotation(doc: Document, span: TaggedSpan) -> bool:
    """``span`` overlaps a quotation, marks included (the rules judge those: speech or scare quotes)."""
    regions = doc.regions.spans
    i = doc.regions.first_from(span.start)
    return i < len(regions) and regions[i][0] < span.end


def _with_speaker(doc: Document, q: Quote, speaker: Speaker) -> Quote:
    """``q`` attributed to ``speaker`` (who has a mention)."""
    mention = speaker.mention
    if mention is None:
        return q
    m_start, m_end = doc.orig(mention.start), doc.orig(mention.end)
    return replace(
        q,
        speaker=speaker.name,
        speaker_mention=doc.original[m_start:m_end],
        speaker_start=m_start,
        speaker_end=m_end,
        cue=speaker.cue or q.cue,
        rule=speaker.rule,
    )


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
