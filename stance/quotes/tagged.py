"""The tagger's stage of the pipeline: its role spans grouped into attributions, sources resolved.

The tagger (:mod:`.tagger`) marks Source, Cue and Content spans without saying which belong
together. Here each Content takes the nearest Cue of the sentence(s) it lies in, and the Source
nearest that cue (or the content, when no cue was tagged). :func:`.pipeline.extract_quotes` then
decides, content by content: one that overlaps a quotation the rules kept proposes a source for
it; one that is only a quotation the rules dropped is left out; any other (scare quotes inside it
included) is a reported (``indirect``) statement. Sources go through the same name registry as the
rules' mentions.

The tagger's source span is the speaker's mention as PolNeAR marks it (a pronoun, a role, "the
data", a country); the speaker's name is read from its head (:func:`source_name`), so an
appositive or a second name is not mistaken for the speaker ("Russia, a signatory to the JCPOA,"
is Russia, "Iran and Russia" both). A reported statement the tagger gives no source takes what
the sentence rules find when its content is read as a quotation (:func:`rules_speaker`), under
that rule's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stance.quotes.attribution import attribute
from stance.quotes.discourse import Speaker, resolved
from stance.quotes.entities import Entities, name_words, resolve, strip_title
from stance.quotes.mentions import Mention
from stance.quotes.reported import mention_in
from stance.quotes.tagger import TaggedSpan
from stance.quotes.text import Tok

RULE = "tagger"
# Whether a tagged content with no tagged source may take the subject of its sentence when no cue
# rule names anyone (``sentence_subject``): measured on PolNeAR dev (docs/experiments.md).
SUBJECT_FALLBACK = False
# Under this mean tag probability a content is left out: measured on PolNeAR dev with the Viterbi
# decoder (benchmarks/tagger_decode.py, docs/experiments.md).
MIN_CONTENT_PROB = 0.6


@dataclass(frozen=True)
class TaggedAttribution:
    """One content span with the cue and source the tagger marked next to it."""

    content: TaggedSpan
    cue: TaggedSpan | None
    source: TaggedSpan | None

    @property
    def last(self) -> int:
        """Where the attribution's last part starts (the pipeline handles it once it has read that far)."""
        return max(self.content.start, self.source.start if self.source else 0)


def _gap(a: TaggedSpan, start: int, end: int) -> int:
    return max(a.start - end, start - a.end, 0)


def group_spans(spans: Sequence[TaggedSpan], sentences: Sequence[tuple[int, int]]) -> list[TaggedAttribution]:
    """Content spans with the nearest cue and source inside the sentences they lie in.

    Args:
        spans: the tagger's spans of one text.
        sentences: ``(start, end)`` of each sentence, in reading order.

    Example:
        >>> s = [TaggedSpan("Source", 0, 3, .9), TaggedSpan("Cue", 4, 8, .9)]
        >>> s.append(TaggedSpan("Content", 9, 20, .9))
        >>> group_spans(s, [(0, 21)])[0].source.start
        0
    """
    out = []
    for content in spans:
        if content.role != "Content" or content.prob < MIN_CONTENT_PROB:
            continue
        inside = [(a, b) for a, b in sentences if a < content.end and content.start < b]
        lo, hi = (inside[0][0], inside[-1][1]) if inside else (content.start, content.end)
        near = [s for s in spans if s.role != "Content" and lo <= s.start and s.end <= hi]
        cues = [s for s in near if s.role == "Cue"]
        cue = min(cues, key=lambda s: _gap(s, content.start, content.end), default=None)
        anchor = (cue.start, cue.end) if cue else (content.start, content.end)
        sources = [s for s in near if s.role == "Source"]
        source = min(sources, key=lambda s: _gap(s, *anchor), default=None)
        out.append(TaggedAttribution(content, cue, source))
    return out


_APPOSITION = {",", "(", ")", "—", "–", ";"}
_CONJUNCTIONS = {"and", "&"}


def _segments(tokens: Sequence[Tok], breaks: set[str]) -> list[list[Tok]]:
    out: list[list[Tok]] = [[]]
    for tok in tokens:
        if tok.lower in breaks or tok.text in breaks:
            out.append([])
        else:
            out[-1].append(tok)
    return [seg for seg in out if seg]


def _known_name(tokens: list[Tok], ents: Entities) -> str | None:
    """The fullest name the registry has for a name mention, else its words without titles; None
    for a pronoun or a nominal. Registers nobody."""
    mention = mention_in(tokens, tokens[0].start, tokens[-1].end)
    if mention is None or mention.kind != "name":
        return None
    words = name_words(tokens)
    person = ents.find([w.removesuffix("'s").removesuffix("’s") for w in words])
    return person.name if person is not None else strip_title(mention.text)


def source_name(mention: Mention, ents: Entities) -> str | None:
    """The canonical name of the speaker a tagged source span names.

    The tagger's span is PolNeAR's Source: it may carry an appositive or a second person, which
    the registry would misread as one name ("Russia, a signatory to the JCPOA," is not the
    "JCPOA"; "Iran and Russia" is not "Russia"). So the name is read from the span's head, the
    first name among its parts split at commas, brackets and dashes ("the envoy, Kazem Jalali,"
    -> "Kazem Jalali"), resolved like a rule's mention; a head that joins names with "and" names
    them all ("Hossein Amir-Abdollahian and Sergei Lavrov"), or nobody when a part is not a name
    ("Regulators and environmental groups").

    Example:
        >>> from stance.quotes.text import tokenize
        >>> text = "Russia, a signatory to the JCPOA,"
        >>> source_name(Mention(tuple(tokenize(text, 0, len(text))), "nominal"), Entities())
        'Russia'
    """
    parts = _segments(mention.tokens, _APPOSITION)
    if not parts:
        return None
    named = [p for p in parts if (m := mention_in(p, p[0].start, p[-1].end)) and m.kind == "name"]
    head = named[0] if named else parts[0]
    people = _segments(head, _CONJUNCTIONS)
    if len(people) > 1:
        names = [_known_name(p, ents) for p in people]
        return " and ".join(n for n in names if n) if all(names) else None
    found = mention_in(head, head[0].start, head[-1].end)
    if found is None:
        return None
    words = name_words(head)
    if found.kind == "name" and len(words) == 1 and ents.find(words) is None:
        # a lone word the registry has not met as a person's ("Russia", "NATO"): named as written,
        # not registered, so a later "he" cannot resolve to it
        return strip_title(found.text)
    return resolve(found, ents)


def tagged_speaker(att: TaggedAttribution, text: str, tokens: list[Tok], ents: Entities) -> Speaker:
    """The attribution's source as a resolved speaker (fullest name), with the tagger as its rule.

    ``tokens`` are the words of the sentence that holds the source. The mention is the tagger's
    whole span; the name comes from its head (:func:`source_name`). No tagged source gives a
    speaker with no mention (the rules may still name one: :func:`rules_speaker`).
    """
    cue = text[att.cue.start : att.cue.end] if att.cue else None
    rule = f"{RULE}:{att.source.prob if att.source else att.content.prob:.2f}"
    mention = mention_in(tokens, att.source.start, att.source.end) if att.source else None
    if mention is None:
        return Speaker(None, None, cue, rule)
    return Speaker(source_name(mention, ents), mention, cue, rule)


def rules_speaker(content: TaggedSpan, tokens: list[Tok], ents: Entities) -> Speaker | None:
    """Who the sentence rules say speaks a tagged content, read as if it were a quotation.

    ``tokens`` are the words of the sentence(s) that hold the content; the content becomes one
    quotation token and :func:`stance.quotes.attribution.attribute` reads it as a mixed quote
    (attribution before it first: "X said that ...", then after it: "..., X said"). The speaker's
    ``rule`` is the name of the rule that found it ("x_said", "according_to", ...).

    Returns:
        The resolved speaker, or None when no rule names anyone.
    """
    before = [t for t in tokens if t.end <= content.start]
    after = [t for t in tokens if t.start >= content.end]
    quote = Tok("", content.start, content.end, quote=True)
    found = attribute([*before, quote, *after], [len(before)], mixed=True, fallback=SUBJECT_FALLBACK)
    return resolved(found, ents) if found.mention is not None else None


def rule_name(rule: str | None) -> str | None:
    """``"tagger:0.93"`` -> ``"tagger"``; other rule names unchanged (for per-rule tables)."""
    return rule.split(":", 1)[0] if rule else rule
