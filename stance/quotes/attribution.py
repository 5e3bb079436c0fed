"""Attribution: which mention a quote's sentence points at, found by an ordered list of rules.

Each rule is a small function that returns an :class:`Attribution` or ``None``; the first that
answers wins and its name (the function's name, the key every evaluation reports it under) travels
with the quote (``Quote.rule``), so an evaluation can score each rule and a rule can be switched
off by leaving it out of the list. Rules do not name themselves: :func:`first_answer` stamps the
name, so a rule can never report under another's.

Three lists, tried in this order for each window of the sentence (after the quote, between its
parts, before it; a mixed quote looks before itself first):

* :data:`WINDOW_RULES` look at the window's edge ("— Jalali", "Berg: “…”");
* :data:`CUE_RULES` run on each reporting cue of the window, nearest first ("Jalali said",
  "said Jalali", "according to Jalali", "…, saying");
* :data:`TRAILING_RULES` look after the cues ("… Jalali said in a statement").

If no window answers, :data:`SENTENCE_RULES` take the subject of the sentence. Rules that look
beyond the sentence (the speaker of the quote before, a colon that introduces the next
paragraph) live in :mod:`stance.quotes.discourse`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stance.lexicon import (
    DOCUMENT_NOUNS,
    INDEFINITE_ARTICLES,
    NOT_SPEAKER_LABELS,
    NOUN_LIKE_CUES,
    PARTICIPLE_CUES,
)
from stance.quotes.cues import find_cues, tight_cue_after
from stance.quotes.mentions import Mention, clause_subject, mention_after, mention_before, mention_ending_at
from stance.quotes.text import Tok

_DASHES = {"-", "—", "–", "―"}
_STATEMENT_WINDOW = 12  # "said Friday in a statement" sits within a dozen tokens of the quote


@dataclass(frozen=True)
class Attribution:
    """A speaker mention (or none), the cue that points at it, and the rule that found them."""

    mention: Mention | None
    cue: str | None
    rule: str | None = None


NOBODY = Attribution(None, None, None)


def first_answer(rules: Sequence[Callable[..., Any]], *args: Any) -> Any:
    """The first rule's answer for ``args``, its ``rule`` set to that rule's name; None if none answers.

    Shared by the sentence rules here and the cross-sentence rules of :mod:`stance.quotes.discourse`.
    """
    for rule in rules:
        found = rule(*args)
        if found:
            return replace(found, rule=rule.__name__)
    return None


@dataclass(frozen=True)
class Window:
    """Tokens ``[lo, hi)`` of a sentence next to a quote, read from the side ``prefer`` names."""

    tokens: list[Tok]
    lo: int
    hi: int
    prefer: str  # "right": the window follows the quote; "left": it precedes it
    after_quote: bool  # the window starts right after the quote being attributed


# ----------------------------------------------------------------------------- window rules


def dash_byline(w: Window) -> Attribution | None:
    """“…” — Kazem Jalali"""
    if w.prefer == "right" and w.lo < w.hi and w.tokens[w.lo].text in _DASHES:
        mention = mention_after(w.tokens, w.lo)
        if mention:
            return Attribution(mention, None)
    return None


def colon_name(w: Window) -> Attribution | None:
    """Berg: “…” / Ola Berg, chief economist: “…” (a colon with no verb)."""
    if w.prefer != "left" or w.hi - w.lo < 2 or w.tokens[w.hi - 1].text != ":":
        return None
    label = " ".join(t.text for t in w.tokens[w.lo : w.hi - 1])
    if label.upper() in NOT_SPEAKER_LABELS:
        return None  # "CLARIFICATION: …", "EDITOR'S NOTE: …"
    mention = mention_ending_at(w.tokens, w.hi - 2)
    if mention is None or mention.kind != "name":
        mention = mention_before(w.tokens, w.hi - 1) if w.tokens[w.hi - 2].text != "," else None
    if mention is not None and mention.kind == "name" and mention.start == w.tokens[w.lo].start:
        return Attribution(mention, None)
    # "Ola Berg, chief economist:" - the name opens the window, a short appositive follows
    for k in range(w.lo, min(w.hi - 1, w.lo + 6)):
        if w.tokens[k].text == ",":
            mention = mention_ending_at(w.tokens, k - 1)
            if mention is not None and mention.kind == "name" and mention.start == w.tokens[w.lo].start:
                return Attribution(mention, None)
            break
    return None


def in_a_statement(w: Window) -> Attribution | None:
    """“…” Jalali said in a statement. (the cue words are a document: 'in a letter')"""
    if w.prefer != "right" or not w.after_quote:
        return None
    tokens = w.tokens
    for j in range(w.lo, min(w.hi, w.lo + _STATEMENT_WINDOW)):
        if tokens[j].quote:
            break
        if (
            tokens[j].lower == "in"
            and j + 2 < w.hi
            and tokens[j + 1].lower in INDEFINITE_ARTICLES
            and tokens[j + 2].lower in DOCUMENT_NOUNS
        ):
            mention = mention_after(tokens, j + 2) or clause_subject(tokens, j)
            if mention:
                return Attribution(mention, f"in a {tokens[j + 2].lower}")
    return None


# -------------------------------------------------------------------------------- cue rules


def according_to(w: Window, i: int, word: str) -> Attribution | None:
    """“…,” according to Jalali."""
    if word != "according":
        return None
    mention = mention_after(w.tokens, i + 1)
    return Attribution(mention, "according to") if mention else None


def saying(w: Window, i: int, word: str) -> Attribution | None:
    """Lavrov warned the West, saying “…” (the subject of the clause a participle hangs from)."""
    if word not in PARTICIPLE_CUES or (i > 0 and w.tokens[i - 1].lower == "worth"):
        return None  # "It's worth noting that …" is the writer's
    subject = None
    if i > 0 and w.tokens[i - 1].text != "," and not w.tokens[i - 1].quote:
        subject = mention_ending_at(w.tokens, i - 1)
    subject = subject or clause_subject(w.tokens, i)
    return Attribution(subject, word) if subject else None


def _plain_cue(word: str) -> bool:
    return word != "according" and word not in PARTICIPLE_CUES


def _mention_before_in_window(w: Window, i: int) -> Mention | None:
    mention = mention_before(w.tokens, i)
    if mention is None or (w.lo > 0 and mention.start < w.tokens[w.lo].start):
        return None
    return mention


def x_said(w: Window, i: int, word: str) -> Attribution | None:
    """Jalali said / Lavrov told reporters / Lavrov, asked about it, replied"""
    if not _plain_cue(word):
        return None
    mention = _mention_before_in_window(w, i)
    if mention is None:
        return None
    return Attribution(mention, word) if mention.kind != "nominal" else None


def role_noun(w: Window, i: int, word: str) -> Attribution | None:
    """the ambassador said / said the ambassador (a role, resolved to a name later if it can be)"""
    if not _plain_cue(word):
        return None
    mention = _mention_before_in_window(w, i) or mention_after(w.tokens, i)
    return Attribution(mention, word) if mention is not None and mention.kind == "nominal" else None


def said_x(w: Window, i: int, word: str) -> Attribution | None:
    """said Jalali"""
    if not _plain_cue(word) or _mention_before_in_window(w, i) is not None:
        return None
    mention = mention_after(w.tokens, i)
    return Attribution(mention, word) if mention is not None and mention.kind != "nominal" else None


def cue_subject(w: Window, i: int, word: str) -> Attribution | None:
    """In a call with Putin on Monday, Raeisi later told reporters: “…” (the cue's clause subject)."""
    if not _plain_cue(word) or w.prefer != "left":
        return None
    subject = clause_subject(w.tokens, i)
    return Attribution(subject, word) if subject else None


# ------------------------------------------------------------------------- sentence rules


def sentence_subject(tokens: list[Tok], first_quote: int) -> Attribution | None:
    """Trump vowed to “…” (no cue word: the subject of the sentence holding the quote)."""
    subject = clause_subject(tokens, first_quote)
    return Attribution(subject, None) if subject else None


WindowRule = Callable[[Window], Attribution | None]
CueRule = Callable[[Window, int, str], Attribution | None]

WINDOW_RULES: list[WindowRule] = [dash_byline, colon_name]
# x_said, role_noun and said_x take the mention before the cue first, then the one after it
CUE_RULES: list[CueRule] = [according_to, saying, x_said, role_noun, said_x, cue_subject]
TRAILING_RULES: list[WindowRule] = [in_a_statement]
SENTENCE_RULES = [sentence_subject]


def _usable(tokens: list[Tok], i: int, word: str) -> bool:
    """A noun-like cue ('his claims') counts only right after a mention or a quote."""
    if word not in NOUN_LIKE_CUES:
        return True
    if i >= 1 and tokens[i - 1].text.endswith(("'s", "’s")):
        return False  # "Trump's tweet", "the minister's remarks": a noun
    if i >= 1 and tokens[i - 1].quote:
        return True
    if i >= 2 and tokens[i - 1].text == "," and tokens[i - 2].quote:
        return True
    return i > 0 and mention_ending_at(tokens, i - 1) is not None


def _in_window(w: Window) -> Attribution | None:
    found = first_answer(WINDOW_RULES, w)
    if found:
        return found
    for i in find_cues(w.tokens, w.lo, w.hi, w.prefer):
        word = w.tokens[i].lower
        if word == "put":
            word = "put it"
        if not _usable(w.tokens, i, word):
            continue
        found = first_answer(CUE_RULES, w, i, word)
        if found:
            return found
    return first_answer(TRAILING_RULES, w)


def attribute(
    tokens: list[Tok], quote_idx: list[int], mixed: bool = False, fallback: bool = True
) -> Attribution:
    """Find a cue and its mention for the quote tokens ``quote_idx`` of a sentence.

    A quote that opens its sentence looks right first ('“…,” Jalali said'), then between its
    parts ('“A,” X said, “B.”'), then left ('X said: “…”'); a mixed quote, a fragment inside
    reported speech, looks left first ('Lavrov said Iran was “…”').

    Example:
        >>> from stance.quotes.text import tokenize, Regions
        >>> text = "“Yes,” Jalali said."
        >>> toks = tokenize(text, 0, len(text), Regions([(0, 6)]))
        >>> attribute(toks, [0]).rule
        'x_said'
    """
    first_q, last_q = quote_idx[0], quote_idx[-1]
    after = Window(tokens, last_q + 1, len(tokens), "right", True)
    between = [
        Window(tokens, a + 1, b, "right", False)
        for a, b in zip(quote_idx, quote_idx[1:], strict=False)
        if b > a + 1
    ]
    before = Window(tokens, 0, first_q, "left", False)
    windows = [before, *between, after] if mixed else [after, *between, before]
    if mixed and tight_cue_after(tokens, last_q):
        # '… a “fragment,” she said' : an attribution right after the quote wins
        windows = [after, *between, before]
    for window in windows:
        found = _in_window(window)
        if found:
            return found
    if fallback and (mixed or first_q > 0):
        found = first_answer(SENTENCE_RULES, tokens, first_q)
        if found:
            return found
    return NOBODY


def attribute_part(tokens: list[Tok], quote_idx: list[int], position: int, mixed: bool) -> Attribution | None:
    """Cue and mention in the text between quote ``quote_idx[position]`` and its neighbours."""
    qi = quote_idx[position]
    lo = quote_idx[position - 1] + 1 if position > 0 else 0
    hi = quote_idx[position + 1] if position + 1 < len(quote_idx) else len(tokens)
    found = attribute(tokens[lo:hi], [qi - lo], mixed, fallback=False)
    return found if found.mention is not None else None
