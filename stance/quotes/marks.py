"""Quote-mark pairing: one linear pass per paragraph, driven by the table of marks below.

Each mark has a family (marks pair only within their family), a usual direction, and the
exceptions its direction may take from its neighbours: a “ glued to the word before closes a
German „…“ quote, a ” typed before a word opens one, a straight " opens or closes by parity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Direction = Literal["open", "close", "either"]


@dataclass(frozen=True)
class Mark:
    family: str
    direction: Direction
    closes_glued: bool = False  # an opener glued to the word before closes instead („…“)
    opens_before_word: bool = False  # a closer between a space and a word opens instead


MARKS: dict[str, Mark] = {
    "“": Mark("curly", "open", closes_glued=True),
    "”": Mark("curly", "close", opens_before_word=True),
    "„": Mark("curly", "open"),
    "«": Mark("curly", "open"),
    "»": Mark("curly", "close", opens_before_word=True),
    "``": Mark("tex", "open"),
    "''": Mark("tex", "either"),
    '"': Mark("straight", "either"),
    "‘": Mark("single", "open"),
    "‚": Mark("single", "open"),
    "‹": Mark("single", "open"),
    "’": Mark("single", "close"),
    "›": Mark("single", "close"),
    "'": Mark("single", "either"),
}
# Marks that close a quote opened by the key, besides the key's own family's closers.
PAIR_CLOSERS = {"„": "“"}
# Characters that may open a paragraph continuing a quote from the paragraph before.
CONTINUATION_OPENERS = "“\"«„'‘`"

_MARK = re.compile("|".join(re.escape(m) for m in sorted(MARKS, key=len, reverse=True)))
_DOUBLE_CHAR = re.compile(
    "[" + "".join(m for m in MARKS if len(m) == 1 and MARKS[m].family != "single") + "]"
)
_TAG = re.compile(r"<[^<>\n]{1,500}>")
_MAX_NESTING = 3  # deeper same-family nesting in news is a typo, not a quotation


@dataclass
class QuoteSpan:
    """Quoted text ``[start, end)`` between the marks at ``open_mark`` and ``close_mark``."""

    start: int
    end: int
    paragraph: int
    open_mark: int
    close_mark: int | None
    continues: bool = False
    continued: bool = False
    closed: bool = True

    @property
    def region(self) -> tuple[int, int]:
        """The quotation with its marks."""
        return self.open_mark, (self.close_mark + 1 if self.close_mark is not None else self.end)


def _role(text: str, pos: int, mark: str, quote_open: bool) -> str:
    """'open' or 'close' for a double mark at ``pos``, from the table and the mark's neighbours."""
    info = MARKS[mark]
    before = text[pos - 1] if pos else " "
    after = text[pos + len(mark)] if pos + len(mark) < len(text) else " "
    if info.direction == "open":
        if info.closes_glued and quote_open and not before.isspace():
            if after.isspace() or after in ".,;:!?)":
                return "close"
        return "open"
    if info.direction == "close":
        if info.opens_before_word and not quote_open and (before.isspace() or before in "([—–"):
            if after.isalnum():
                return "open"
        return "close"
    if quote_open:
        # a straight mark glued to the next word after a space starts a new quote
        return "open" if before.isspace() and after.isalnum() else "close"
    return "open"


def _looks_opening(text: str, pos: int, mark: str) -> bool:
    """A mark with no direction of its own, set between a space and a word (an opener by its place)."""
    before = text[pos - 1] if pos else " "
    after = text[pos + len(mark)] if pos + len(mark) < len(text) else " "
    return (before.isspace() or before in "([—–") and after.isalnum()


def find_quote_spans(text: str, paras: list[tuple[int, int]]) -> list[QuoteSpan]:
    """Pair quote marks paragraph by paragraph in one pass; inner quotes stay inside outer ones.

    A paragraph that ends inside a quote and is followed by one that opens a quote continues it
    (news style for quotes over several paragraphs). An unclosed quote runs to its paragraph end.
    A closing mark with no quote open (text that starts mid-quote) opens nothing.
    """
    spans: list[QuoteSpan] = []
    carry = False
    # quote marks inside markup (<tweet id="…">) are not quotations
    tags = [(m.start(), m.end()) for m in _TAG.finditer(text)] if "<" in text else []
    tag_i = 0
    for p_index, (p_start, p_end) in enumerate(paras):
        open_at: int | None = None
        open_mark = -1
        open_str = ""
        depth = 0
        single_at: int | None = None
        single_mark = -1
        reopened = False
        inner: str | None = None
        open_family = ""
        for m in _MARK.finditer(text, p_start, p_end):
            mark, pos = m.group(), m.start()
            while tag_i < len(tags) and tags[tag_i][1] <= pos:
                tag_i += 1
            if tag_i < len(tags) and tags[tag_i][0] <= pos:
                continue
            info = MARKS[mark]
            before = text[pos - 1] if pos > p_start else " "
            after = text[m.end()] if m.end() < p_end else " "
            if info.family == "single":
                if open_at is not None:
                    continue  # nested quote: part of the outer quotation
                if (
                    single_at is None
                    and info.direction != "close"
                    and not before.isalnum()
                    and after.isalnum()
                ):
                    if mark == "'" and (after.isdigit() or before in "sS"):
                        continue  # '90s, the students' view
                    single_at, single_mark = m.end(), pos
                    continue
                if (
                    info.direction != "open"
                    and single_at is not None
                    and not before.isspace()
                    and not after.isalnum()
                    and after != "’"
                ):
                    inside = text[single_at:pos]
                    if inside.strip() and not _DOUBLE_CHAR.search(inside):
                        spans.append(QuoteSpan(single_at, pos, p_index, single_mark, pos))
                    single_at = None
                continue
            if mark == '"' and before.isdigit() and open_at is None:
                continue  # inches: 6'3" tall
            if inner is not None:
                # inside a quote nested with the other family of marks ("… “inner” …")
                if info.family == inner and _role(text, pos, mark, True) == "close":
                    inner = None
                continue
            if open_at is not None and info.family != open_family and _role(text, pos, mark, False) == "open":
                if info.direction == "open" or (
                    info.direction == "either" and _looks_opening(text, pos, mark)
                ):
                    inner = info.family
                    continue
            role = _role(text, pos, mark, open_at is not None)
            if role == "open" and open_at is not None:
                if mark in PAIR_CLOSERS.get(open_str, ""):
                    role = "close"
                elif info.direction == "open" and MARKS[open_str].direction == "open":
                    # “how “are” you”: the same family nested keeps the outer quote
                    if depth < _MAX_NESTING and info.family == open_family:
                        depth += 1
                        continue
            if role == "open":
                open_at, open_mark, open_str, open_family, depth = m.end(), pos, mark, info.family, 0
                single_at = None
                if not reopened and carry and not text[p_start:pos].strip():
                    reopened = True
                continue
            if open_at is not None:
                if depth:
                    depth -= 1
                    continue
                if text[open_at:pos].strip():
                    span = QuoteSpan(open_at, pos, p_index, open_mark, pos)
                    if (
                        reopened
                        and carry
                        and spans
                        and spans[-1].continues
                        and not text[p_start:open_mark].strip()
                    ):
                        span.continued = True
                    spans.append(span)
                open_at = None
        carry = False
        if open_at is not None and text[open_at:p_end].strip():
            next_start = paras[p_index + 1][0] if p_index + 1 < len(paras) else None
            runs_on = next_start is not None and text[next_start] in CONTINUATION_OPENERS
            span = QuoteSpan(open_at, p_end, p_index, open_mark, None, continues=runs_on, closed=False)
            if reopened and spans and spans[-1].continues and not text[p_start:open_mark].strip():
                span.continued = True
            spans.append(span)
            carry = runs_on
    return spans
