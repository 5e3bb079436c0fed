"""Reporting cues ("said", "told", "according to") and the tests that tell speech from titles.

The word lists live in :mod:`stance.lexicon`; this module only reads them.
"""

from __future__ import annotations

import re
from typing import Literal

from stance.lexicon import CUE_VERBS, FUNCTION_WORDS, NOT_SPEECH_BEFORE, TITLE_SMALL_WORDS
from stance.quotes.marks import QuoteSpan
from stance.quotes.text import Tok

Kind = Literal["direct", "mixed", "indirect"]
KINDS: tuple[Kind, ...] = ("direct", "mixed", "indirect")

# A window holds this many cues at most worth trying: the right one is among the nearest, and
# trying every cue of a sentence made of cue words would cost quadratic time.
_MAX_CUES = 10

_NOT_SPEECH_BEFORE = re.compile(
    r"(?:" + "|".join(re.escape(w) for w in NOT_SPEECH_BEFORE) + r"|\w['’]s)\s*[,:]?\s*$", re.IGNORECASE
)


def is_cue(tokens: list[Tok], i: int, hi: int) -> bool:
    """``tokens[i]`` is a reporting word ('said'), 'put it' or 'according to'."""
    tok = tokens[i]
    if tok.lower in CUE_VERBS and (not tok.cap or i == 0):
        return True
    nxt = tokens[i + 1].lower if i + 1 < hi else ""
    return (tok.lower == "put" and nxt == "it") or (tok.lower == "according" and nxt == "to")


def find_cues(tokens: list[Tok], lo: int, hi: int, prefer: str) -> list[int]:
    """Indices of the cues in ``tokens[lo:hi]``, nearest first from ``prefer`` ('left'/'right')."""
    found: list[int] = []
    order = range(lo, hi) if prefer == "right" else range(hi - 1, lo - 1, -1)
    for i in order:
        if is_cue(tokens, i, hi):
            found.append(i)
            if len(found) == _MAX_CUES:
                break
    return found


def tight_cue_after(tokens: list[Tok], q: int) -> bool:
    """A cue within the three tokens after quote token ``q``, before any other word run."""
    for j in range(q + 1, min(len(tokens), q + 5)):
        if tokens[j].lower in CUE_VERBS and not tokens[j].cap:
            return True
        if tokens[j].quote or tokens[j].text in {".", ";"} or tokens[j].lower in FUNCTION_WORDS:
            return False
    return False


def is_not_speech(text: str, span: QuoteSpan, sentence_start: int, has_cue: bool) -> bool:
    """Scare quotes, titles and nicknames: a short or title-case quote with nothing that cues speech."""
    inner = text[span.start : span.end].strip()
    words = inner.split()
    # a title or "so-called" sits within the 40 characters before the mark
    before = text[max(sentence_start, span.open_mark - 40) : span.open_mark]
    if _NOT_SPEECH_BEFORE.search(before):
        return True
    if len(words) > 6:
        return False
    ends_like_speech = inner[-1:] in ".!?,;—–-" if inner else False
    content = [w for w in words if w.lower() not in TITLE_SMALL_WORDS]
    title_case = bool(content) and all(w[:1].isupper() or not w[:1].isalpha() for w in content)
    if title_case and not has_cue:
        return True
    if title_case and not ends_like_speech:
        close = span.close_mark if span.close_mark is not None else span.end
        prev = text[span.open_mark - 2 : span.open_mark].strip()
        nxt = text[close + 1 : close + 3].strip()
        # nickname between names: Donald “The Donald” Trump
        if prev[-1:].isalpha() and nxt[:1].isupper():
            return True
        if not has_cue or len(words) >= 2:
            return True
    return not has_cue and len(words) <= 3 and not ends_like_speech


def quote_kind(text: str, span: QuoteSpan, last: Tok | None) -> Kind:
    """'direct' when the quote stands as a sentence, 'mixed' when it is a fragment inside one.

    ``last`` is the sentence's token right before the quote (None when the quote opens it). A
    whole sentence quoted after a cue with no comma ('He said "We will win."') is direct: it
    opens with a capital and ends with a full stop.
    """
    if span.continued or last is None:
        return "direct"
    if last.quote or last.text in {":", ",", "—", "–", "-", "("}:
        return "direct"
    inner = text[span.start : span.end].strip()
    if last.lower in CUE_VERBS and inner[:1].isupper() and inner[-1:] in ".!?" and len(inner.split()) >= 3:
        return "direct"
    return "mixed"
