"""Rules that look beyond the sentence: who speaks a quote that its own sentence leaves unnamed.

* ``colon_intro``: a paragraph that ends "He said:" introduces the quote that opens the next one;
* ``previous_subject``: “He was blunter. “…”” - the subject of the sentence before the quote;
* ``previous_speaker``: an uncued quote right after a speaker's quote continues it;
* ``quote_chain``: paragraphs of one quotation share the speaker named in any of them.

:class:`Discourse` holds the little state these rules need while the article is read in order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stance.quotes.attribution import Attribution, attribute
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


def resolved(att: Attribution, ents: Entities) -> Speaker:
    return Speaker(resolve(att.mention, ents), att.mention, att.cue, att.rule)


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
                self.intro = (resolved(replace(att, rule="colon_intro"), self.ents), p_index)
        self.previous_sentence = (tokens, p_index)

    def speaker_for(
        self, span: QuoteSpan, att: Attribution, n_span: int, p_index: int, opens_paragraph: bool
    ) -> tuple[Speaker, int]:
        """The speaker and group id of one quote, given what its own sentence says (``att``)."""
        speaker = resolved(att, self.ents)
        if (
            n_span == 0
            and att.mention is None
            and opens_paragraph
            and self.intro
            and self.intro[1] == p_index - 1
        ):
            speaker = self.intro[0]
        self.intro = None
        if speaker.mention is None and n_span == 0 and self.previous_sentence and not span.continued:
            speaker = self._from_previous_sentence(p_index) or speaker
        self.previous_sentence = None
        has_own = speaker.mention is not None
        continued = span.continued or (
            not has_own
            and self.last is not None
            and self.last_para in (p_index, p_index - 1)
            and (n_span > 0 or opens_paragraph)
            and (self.last_para == p_index - 1 or self.para_has_speaker)
        )
        if not has_own and self.last is not None and (continued or self.para_has_speaker):
            speaker = replace(self.last, rule="previous_speaker")
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

    def _from_previous_sentence(self, p_index: int) -> Speaker | None:
        """'… Schiff said. “…”' (the attribution that ends the sentence before) or
        'He was blunter. “…”' (its subject), in the same paragraph."""
        if self.previous_sentence is None:
            return None
        tokens, para = self.previous_sentence
        if para != p_index or not tokens:
            return None
        end = len(tokens) - 1 if tokens[-1].text in {".", "!", "?"} else len(tokens)
        # "…, Schiff said." : a cue among the last few tokens names the speaker
        for i in range(end - 1, max(end - _TRAILING_CUE, 0) - 1, -1):
            if is_cue(tokens, i, end):
                att = attribute([Tok("", tokens[0].start, tokens[0].start, quote=True), *tokens[:end]], [0])
                if att.mention is not None and att.mention.kind != "nominal":
                    found = resolved(replace(att, rule="previous_attribution"), self.ents)
                    return found if found.name else None
                break
        subject = clause_subject(tokens, end)
        if subject is None or subject.kind not in {"name", "pronoun"}:
            return None
        found = resolved(Attribution(subject, None, "previous_subject"), self.ents)
        return found if found.name else None

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
                        rule="quote_chain",
                    )
                quotes[i] = replace(quotes[i], group=source.group)
        return quotes
