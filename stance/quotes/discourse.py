"""Rules that look beyond the sentence: who speaks a quote that its own sentence leaves unnamed.

Like the sentence rules of :mod:`stance.quotes.attribution`, these are small functions in named,
ordered lists; the first that answers wins and its name travels with the quote:

* :data:`NAMING_RULES` find a speaker named near the quote, when its own sentence names nobody:

  * ``colon_intro``: a paragraph that ends "He said:" introduces the quote that opens the next one;
  * ``previous_attribution``: '… Schiff said. “…”' - the attribution that ends the sentence before;
  * ``previous_subject``: “He was blunter. “…”” - the subject of the sentence before the quote;

* :data:`CARRYING_RULES` carry a speaker on when nothing names one:

  * ``previous_speaker``: an uncued quote right after a speaker's quote continues it;

* ``quote_chain`` (:meth:`Discourse.share_chain_speakers`, once the article is read):
  paragraphs of one quotation share the speaker named in any of them.

:class:`Discourse` holds the little state these rules need while the article is read in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from stance.quotes.attribution import Attribution, attribute, first_answer
from stance.quotes.cues import is_cue
from stance.quotes.entities import Entities, resolve
from stance.quotes.marks import QuoteSpan
from stance.quotes.mentions import Mention, clause_subject
from stance.quotes.model import Quote
from stance.quotes.text import Tok


@dataclass(frozen=True)
class Speaker:
    """A resolved attribution: canonical name, the mention as written, cue and rule."""

    name: str | None
    mention: Mention | None
    cue: str | None
    rule: str | None


NOBODY = Speaker(None, None, None, None)
_TRAILING_CUE = 4  # "…, Jalali said." / "…, said the minister." end within four tokens
QUOTE_CHAIN = "quote_chain"  # the rule name of quotes that share_chain_speakers attributes


def resolved(att: Attribution, ents: Entities) -> Speaker:
    return Speaker(resolve(att.mention, ents), att.mention, att.cue, att.rule)


@dataclass(frozen=True)
class QuoteAt:
    """Where a quote sits: its span, its place among its sentence's quotes, its paragraph."""

    span: QuoteSpan
    n_span: int  # 0 for the first quote of its sentence
    paragraph: int
    opens_paragraph: bool


# ----------------------------------------------------------------------------- naming rules


def colon_intro(talk: Discourse, q: QuoteAt) -> Speaker | None:
    """He said:¶“…” (a paragraph ending in a cue and a colon introduces the quote opening the next)."""
    if q.n_span == 0 and q.opens_paragraph and talk.intro and talk.intro[1] == q.paragraph - 1:
        return talk.intro[0]
    return None


def _sentence_before(talk: Discourse, q: QuoteAt) -> tuple[list[Tok], int] | None:
    """The tokens of the sentence before the quote, in its paragraph, and where they end."""
    if q.n_span != 0 or talk.previous_sentence is None or q.span.continued:
        return None
    tokens, para = talk.previous_sentence
    if para != q.paragraph or not tokens:
        return None
    return tokens, len(tokens) - 1 if tokens[-1].text in {".", "!", "?"} else len(tokens)


def _trailing_attribution(tokens: list[Tok], end: int) -> Attribution | None:
    """'…, Schiff said.': the nearest cue among the sentence's last tokens, if it names someone."""
    for i in range(end - 1, max(end - _TRAILING_CUE, 0) - 1, -1):
        if is_cue(tokens, i, end):
            att = attribute([Tok("", tokens[0].start, tokens[0].start, quote=True), *tokens[:end]], [0])
            return att if att.mention is not None and att.mention.kind != "nominal" else None
    return None


def previous_attribution(talk: Discourse, q: QuoteAt) -> Speaker | None:
    """… Schiff said. “…” (the attribution that ends the sentence before, in the same paragraph)."""
    before = _sentence_before(talk, q)
    att = _trailing_attribution(*before) if before else None
    if att is None:
        return None
    found = resolved(att, talk.ents)
    return found if found.name else None


def previous_subject(talk: Discourse, q: QuoteAt) -> Speaker | None:
    """He was blunter. “…” (the subject of the sentence before, when no cue ends it)."""
    before = _sentence_before(talk, q)
    if before is None or _trailing_attribution(*before) is not None:
        return None
    subject = clause_subject(*before)
    if subject is None or subject.kind not in {"name", "pronoun"}:
        return None
    found = resolved(Attribution(subject, None), talk.ents)
    return found if found.name else None


# --------------------------------------------------------------------------- carrying rules


def previous_speaker(talk: Discourse, q: QuoteAt) -> Speaker | None:
    """“…,” Lavrov said.¶“…” (an uncued quote right after a speaker's quote continues it)."""
    if talk.last is not None and (q.span.continued or talk.runs_on(q) or talk.para_has_speaker):
        return talk.last
    return None


DiscourseRule = Callable[["Discourse", QuoteAt], Speaker | None]

NAMING_RULES: list[DiscourseRule] = [colon_intro, previous_attribution, previous_subject]
CARRYING_RULES: list[DiscourseRule] = [previous_speaker]


class Discourse:
    """Speakers carried from sentence to sentence and paragraph to paragraph."""

    def __init__(self, ents: Entities) -> None:
        self.ents = ents
        self.group = -1
        self.last: Speaker | None = None
        self.last_para = -2
        self.para_has_speaker = False
        self.intro: tuple[Speaker, int] | None = None
        self.previous_sentence: tuple[list[Tok], int] | None = None
        self.chain = -1
        self.chains: list[tuple[int, bool]] = []

    def new_paragraph(self) -> None:
        self.para_has_speaker = False
        self.previous_sentence = None

    def sentence_without_quotes(self, tokens: list[Tok], p_index: int, ends_with_colon: bool) -> None:
        """Remember what a sentence with no quotation says about who speaks next."""
        if ends_with_colon and tokens:
            # "He said:" closing a paragraph introduces the quote that follows
            end = tokens[-1].end
            att = attribute([*tokens, Tok("", end, end, quote=True)], [len(tokens)], True)
            if att.mention is not None:
                self.intro = (resolved(att, self.ents), p_index)
        self.previous_sentence = (tokens, p_index)

    def runs_on(self, q: QuoteAt) -> bool:
        """The quote continues the last speaker's words: in the same or the next paragraph, as a
        later quote of a sentence or the opening of a paragraph."""
        return (
            self.last is not None
            and self.last_para in (q.paragraph, q.paragraph - 1)
            and (q.n_span > 0 or q.opens_paragraph)
            and (self.last_para == q.paragraph - 1 or self.para_has_speaker)
        )

    def speaker_for(
        self, span: QuoteSpan, att: Attribution, n_span: int, p_index: int, opens_paragraph: bool
    ) -> tuple[Speaker, int]:
        """The speaker and group id of one quote, given what its own sentence says (``att``)."""
        q = QuoteAt(span, n_span, p_index, opens_paragraph)
        speaker = resolved(att, self.ents)
        if speaker.mention is None:
            speaker = first_answer(NAMING_RULES, self, q) or speaker
        self.intro = None
        self.previous_sentence = None
        has_own = speaker.mention is not None
        continued = span.continued or (not has_own and self.runs_on(q))
        carried = None if has_own else first_answer(CARRYING_RULES, self, q)
        if carried is not None:
            speaker = carried
            if not span.continued and n_span == 0 and self.last_para != p_index:
                self.group += 1
        elif (
            self.last is None
            or speaker.mention is None
            or self.last.mention is None
            or self.last.mention.start != speaker.mention.start
        ):
            self.group += 1
        if has_own or continued:
            self.last = speaker
            self.last_para = p_index
            self.para_has_speaker = True
        if not span.continued:
            self.chain += 1
        self.chains.append((self.chain, has_own))
        return speaker, self.group

    def share_chain_speakers(self, quotes: list[Quote]) -> list[Quote]:
        """Paragraphs of one quote share the speaker named in any of them (often only the last)."""
        members: dict[int, list[int]] = {}
        for index, (chain, _) in enumerate(self.chains):
            members.setdefault(chain, []).append(index)
        for indices in members.values():
            owners = [i for i in indices if self.chains[i][1]]
            if len(indices) < 2 or not owners:
                continue
            source = quotes[owners[0]]
            for i in indices:
                if not self.chains[i][1]:
                    quotes[i] = replace(
                        quotes[i],
                        speaker=source.speaker,
                        speaker_mention=source.speaker_mention,
                        speaker_start=source.speaker_start,
                        speaker_end=source.speaker_end,
                        cue=source.cue,
                        rule=QUOTE_CHAIN,
                    )
                quotes[i] = replace(quotes[i], group=source.group)
        return quotes
