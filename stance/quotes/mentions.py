"""Mentions of speakers next to a cue: names, pronouns and nominals ("the minister").

Every function works on a sentence's tokens (:func:`stance.quotes.text.tokenize`) and looks only
a bounded number of tokens away from where it starts, so a sentence of any length costs the same
per lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stance.lexicon import (
    BETWEEN_SPEAKER_AND_CUE,
    CLAUSE_OPENERS,
    COLLECTIVE_SPEAKERS,
    CUE_VERBS,
    DETERMINERS,
    DOCUMENT_NOUNS,
    FUNCTION_WORDS,
    GENDERED_PRONOUNS,
    MENTION_LINKS,
    NOMINAL_STOP,
    NON_NAME_WORDS,
    NOT_A_SPEAKER_AFTER_CUE,
    OPENING_CUES,
    ORG_WORDS,
    PRONOUNS,
    ROLE_AFTER_CUE_STOPS,
    ROLE_NOUNS,
    ROLE_SUFFIXES,
    TITLE_PLACE_LINKS,
    TITLES,
)
from stance.quotes.text import Tok, is_particle

MentionKind = Literal["name", "pronoun", "nominal"]

_APPOSITIVE_TOKENS = 45  # an appositive longer than this is a clause, not a description
_PARENTHESIS_TOKENS = 12  # "(R-Texas)", "(the ministry's spokesman)"
_NOMINAL_TOKENS = 6  # "the Iranian foreign ministry's spokesman"
_NAME_AFTER_CUE_TOKENS = 8  # "said Iran's Ambassador to Moscow Kazem Jalali"
_SUBJECT_TOKENS = 8  # the subject of a clause starts within this many tokens of it


@dataclass(frozen=True)
class Mention:
    """Who a cue points at, as written: ``tokens`` of a name, pronoun or nominal."""

    tokens: tuple[Tok, ...]
    kind: MentionKind

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end

    @property
    def words(self) -> list[str]:
        return [t.text for t in self.tokens]

    @property
    def text(self) -> str:
        """The words joined by single spaces (the input's own spacing is ``text[start:end]``)."""
        return " ".join(self.words)


def is_break(tok: Tok) -> bool:
    """A token that ends a phrase: a quotation or clause punctuation."""
    return tok.quote or tok.text in {",", "“", "”", '"', ";", ":"}


def is_name_token(tok: Tok) -> bool:
    return (tok.cap and tok.text not in NON_NAME_WORDS) or is_particle(tok)


def opening_cue(tokens: list[Tok], k: int) -> bool:
    """``tokens[k]`` is a cue that opens its sentence ("Said Ellis: …"), not a word of the name after it."""
    return tokens[k].text in OPENING_CUES and (
        k == 0 or tokens[k - 1].quote or tokens[k - 1].text in {".", "!", "?", ":", "”", '"'}
    )


def name_core(tokens: list[Tok]) -> list[Tok]:
    """The name after the last title word: 'Iran's Ambassador to Moscow Kazem Jalali' -> 'Kazem Jalali'."""
    cut = 0
    for i, tok in enumerate(tokens[:-1]):
        if is_particle(tok):
            continue
        if tok.lower in TITLES or tok.lower in DETERMINERS or not tok.cap or tok.text.endswith(("'s", "’s")):
            cut = i + 1
    core = tokens[cut:]
    # a place inside the title ("to Moscow", "of State") sits between the title and the name
    if len(core) >= 3 and cut > 0 and tokens[cut - 1].lower in TITLE_PLACE_LINKS:
        core = core[1:]
    return core


def mention_before(tokens: list[Tok], i: int) -> Mention | None:
    """The mention that ends just before token ``i`` (the subject of a cue at ``i``)."""
    j = i - 1
    while j >= 0 and tokens[j].lower in BETWEEN_SPEAKER_AND_CUE:
        if tokens[j].lower == "told" and j != i - 1:
            break
        j -= 1
    if j < 0:
        return None
    if tokens[j].text == "," and j >= 1 and tokens[j - 1].text == ")":
        j -= 1
    if tokens[j].text == ")":
        k = j - 1
        while k >= 0 and j - k < _PARENTHESIS_TOKENS and tokens[k].text != "(":
            k -= 1
        return mention_ending_at(tokens, k - 1) if k >= 1 else None
    if tokens[j].text == ",":
        # appositive: "Hugh Hill, a doctor at the clinic, said" / "the chief economist, Ola Berg, said"
        k = j - 1
        while k >= 0 and j - k <= _APPOSITIVE_TOKENS and not is_break(tokens[k]):
            k -= 1
        if k >= 1 and tokens[k].text == ",":
            inner = mention_ending_at(tokens, k - 1)
            named = mention_ending_at(tokens, j - 1)
            if named is not None and named.kind == "name" and named.start >= tokens[k + 1].start:
                if inner is None or inner.kind == "nominal":
                    return named
            if inner is not None:
                return inner
        return None
    return mention_ending_at(tokens, j)


_CLITIC = re.compile(r"['’](?:s|d|ll|re|ve|m)$", re.IGNORECASE)


def pronoun_part(tok: Tok) -> Tok | None:
    """``tok`` if it is a pronoun, its pronoun if it is one with a clitic ("He’s", "she’d",
    "they’re" -> "He", "she", "they"), else None."""
    if tok.lower in PRONOUNS:
        return tok
    clitic = _CLITIC.search(tok.text)
    if clitic is not None and tok.lower[: clitic.start()] in PRONOUNS:  # "He’s claiming"
        return Tok(tok.text[: clitic.start()], tok.start, tok.start + clitic.start())
    return None


def mention_ending_at(tokens: list[Tok], j: int) -> Mention | None:
    """The name, pronoun or nominal whose last token is ``tokens[j]``."""
    if j < 0:
        return None
    tok = tokens[j]
    if tok.quote:
        return None
    pronoun = pronoun_part(tok)
    if pronoun is not None:
        return Mention((pronoun,), "pronoun")
    if is_name_token(tok) and tok.text not in ORG_WORDS or (tok.cap and tok.text in ORG_WORDS):
        k = j
        # a name with its titles is at most a dozen words ("Iran's Ambassador to Moscow Kazem Jalali")
        while (
            k - 1 >= 0
            and j - k < 12
            and (
                is_name_token(tokens[k - 1])
                or tokens[k - 1].lower in TITLES
                or tokens[k - 1].text == "-"
                or (tokens[k - 1].lower in MENTION_LINKS and k - 2 >= 0 and tokens[k - 2].cap)
            )
        ):
            k -= 1
        while k < j and (
            tokens[k].text in NON_NAME_WORDS or tokens[k].lower in MENTION_LINKS or opening_cue(tokens, k)
        ):
            k += 1
        if k - 1 >= 0 and tokens[k - 1].lower in DETERMINERS and tokens[k - 1].lower != "that":
            k -= 1
        span = tokens[k : j + 1]
        if span[0].text in NON_NAME_WORDS and len(span) == 1:
            return None
        return Mention(tuple(span), "name")
    if (
        tok.text.isalpha()
        and not tok.cap
        and tok.lower not in CUE_VERBS
        and tok.lower not in DETERMINERS
        and tok.lower not in FUNCTION_WORDS
    ):
        k = j
        while (
            k - 1 >= 0
            and j - k < _NOMINAL_TOKENS
            and not is_break(tokens[k - 1])
            and tokens[k - 1].text != "."
        ):
            prev = tokens[k - 1]
            if prev.lower in DETERMINERS or prev.text.endswith(("'s", "’s")):
                k -= 1
                while (
                    k - 1 >= 0
                    and (tokens[k - 1].cap or tokens[k - 1].lower in DETERMINERS)
                    and tokens[k].text.endswith(("'s", "’s"))
                    and j - k < _NOMINAL_TOKENS + 1
                ):
                    k -= 1
                return Mention(tuple(tokens[k : j + 1]), "nominal")
            if prev.lower in CUE_VERBS or prev.lower in FUNCTION_WORDS:
                break
            k -= 1
        if tok.lower in COLLECTIVE_SPEAKERS or (tok.lower in ROLE_NOUNS and tok.lower.endswith("s")):
            return Mention((tok,), "nominal")
    return None


def mention_after(tokens: list[Tok], i: int) -> Mention | None:
    """The mention right after a cue at ``i`` ("said Jalali", "said the ambassador")."""
    j = i + 1
    if j >= len(tokens) or tokens[j].quote:
        return None
    tok = tokens[j]
    if tok.lower in GENDERED_PRONOUNS:
        return Mention((tok,), "pronoun")
    if tok.lower in NOT_A_SPEAKER_AFTER_CUE:
        return None
    k = j
    if tok.lower in DETERMINERS or tok.text.endswith(("'s", "’s")):
        k += 1
    elif not tok.cap and tok.text.isalpha():
        # "said chief economist Ola Berg": lower-case role words, then the name
        m = j
        while (
            m < len(tokens)
            and m - j < 5
            and tokens[m].text.isalpha()
            and not tokens[m].cap
            and tokens[m].lower not in CUE_VERBS
            and tokens[m].lower not in ROLE_AFTER_CUE_STOPS
        ):
            m += 1
        if m < len(tokens) and m > j and tokens[m].cap and tokens[m].text not in NON_NAME_WORDS:
            end = m
            while (
                end < len(tokens)
                and end - m < _NAME_AFTER_CUE_TOKENS
                and (tokens[end].cap or tokens[end].text == "-" or is_particle(tokens[end]))
            ):
                end += 1
            return Mention(tuple(tokens[j:end]), "name")
    end = k
    while (
        end < len(tokens)
        and end - j < _NAME_AFTER_CUE_TOKENS
        and not tokens[end].quote
        and (
            tokens[end].cap
            or tokens[end].lower in TITLES
            or tokens[end].text == "-"
            or is_particle(tokens[end])
            or (tokens[end].lower in MENTION_LINKS and end + 1 < len(tokens) and tokens[end + 1].cap)
            or (
                k > j
                and not tokens[end].cap
                and tokens[end].text.isalpha()
                and tokens[end].lower not in CUE_VERBS
                and tokens[end].lower not in NOMINAL_STOP
            )
        )
    ):
        end += 1
    if end == j or (end == k and k > j):
        return None
    span = tokens[j:end]
    if span[0].text in NON_NAME_WORDS and len(span) == 1:
        return None
    kind: MentionKind = (
        "name"
        if any(t.cap and t.lower not in TITLES for t in span) and span[0].lower not in DETERMINERS
        else "nominal"
    )
    if kind == "nominal" and not any(t.lower in ROLE_NOUNS or t.lower.endswith(ROLE_SUFFIXES) for t in span):
        if not any(t.cap for t in span[1:]):
            return None
    return Mention(tuple(span), kind)


def clause_subject(tokens: list[Tok], i: int, lo: int = 0) -> Mention | None:
    """Subject of the clause before token ``i``: the mention before its first verb.

    The clause starts after the last quotation, full stop, semicolon or colon before ``i``, and
    not before ``lo``.
    """
    start = lo
    for k in range(i - 1, lo - 1, -1):
        if tokens[k].quote or tokens[k].text in {".", ";", ":"}:
            start = k + 1
            break
    k = start
    # skip an opening adverbial: "At the UN on Sept. 25, Lavrov ..." / "In a call with X, ..."
    if k < i and tokens[k].lower in CLAUSE_OPENERS:
        while k < i and tokens[k].text != ",":
            k += 1
        k += 1
    opening = _name_before_appositive(tokens, k, i)
    if opening is not None:
        return opening
    for j in range(k, min(i, k + _SUBJECT_TOKENS + 1)):
        if tokens[j].text == "," or tokens[j].quote:
            continue
        nxt = tokens[j + 1] if j + 1 < len(tokens) else None
        if (
            nxt is not None
            and not nxt.cap
            and nxt.text.isalpha()
            and nxt.lower not in {"of", "and", "to", "for", "at", "in", "the"}
        ):
            if _role_word(nxt) or tokens[j].text.endswith(("'s", "’s")):
                # a phrase that goes on to its head: "the New York businessman", "Democratic
                # presidential nominee Hillary Clinton", "Clinton's campaign manager Robby Mook"
                head = j + 1
                while head + 1 < i and _role_word(tokens[head + 1]):
                    head += 1
                after = tokens[head + 1] if head + 1 < i else None
                if _role_word(nxt) and after is not None and is_name_token(after):
                    continue  # the name ahead is the subject
                if not _role_word(nxt):
                    return mention_ending_at(tokens, j)  # "Trump's response to …" is his
                return mention_ending_at(tokens, head)  # "McCrory's opponent", "my mother"
            mention = mention_ending_at(tokens, j)
            if mention:
                return mention
    return None


def _role_word(tok: Tok) -> bool:
    """A lower-case word of a role or title ("businessman", "presidential"), not a document's."""
    return (
        tok.text.isalpha()
        and not tok.cap
        and (tok.lower in ROLE_NOUNS or tok.lower in TITLES)
        and tok.lower not in DOCUMENT_NOUNS
        and tok.lower != "then"
    )


def _name_before_appositive(tokens: list[Tok], k: int, i: int) -> Mention | None:
    """'Dean, a former chairman, …' / 'Roy Cooper (D), McCrory's opponent, …': a name that opens
    the clause, set off by a comma or a bracket before a description, is the clause's subject."""
    for j in range(k, min(i - 1, k + 4)):
        after = tokens[j + 1]
        if after.text not in {",", "("}:
            continue
        described = tokens[j + 2] if j + 2 < i else None
        describes = described is not None and (
            described.lower in DETERMINERS or described.text.endswith(("'s", "’s")) or _role_word(described)
        )
        if after.text == "," and not describes:
            return None
        mention = mention_ending_at(tokens, j)
        if mention is not None and mention.kind == "name" and mention.start == tokens[k].start:
            return mention
        return None
    return None
