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


@dataclass
class _Paragraph:
    """One paragraph's pass: the quotation open so far in each family, and the spans found.

    ``carry``: the paragraph before ended inside a quotation that runs on into this one.
    """

    text: str
    index: int
    start: int
    carry: bool
    spans: list[QuoteSpan]
    open_at: int | None = None  # start of the open double-mark quotation's words
    open_mark: int = -1
    open_str: str = ""
    open_family: str = ""
    depth: int = 0  # same-family marks nested inside the open quotation
    inner: str | None = None  # the other family's quotation open inside it
    single_at: int | None = None  # start of an open single-mark quotation's words
    single_mark: int = -1
    reopened: bool = False  # this paragraph reopened the quotation the one before left open

    def single(self, mark: str, pos: int, end: int, before: str, after: str) -> None:
        """A ‘single’ mark: a quotation of its own only outside a double-mark one."""
        info = MARKS[mark]
        if self.open_at is not None:
            return  # nested quote: part of the outer quotation
        if self.single_at is None and info.direction != "close" and not before.isalnum() and after.isalnum():
            if mark == "'" and (after.isdigit() or before in "sS"):
                return  # '90s, the students' view
            self.single_at, self.single_mark = end, pos
            return
        if (
            info.direction != "open"
            and self.single_at is not None
            and not before.isspace()
            and not after.isalnum()
            and after != "’"
        ):
            inside = self.text[self.single_at : pos]
            if inside.strip() and not _DOUBLE_CHAR.search(inside):
                self.spans.append(QuoteSpan(self.single_at, pos, self.index, self.single_mark, pos))
            self.single_at = None

    def double(self, mark: str, pos: int, end: int, before: str) -> None:
        """A “double” mark (curly, TeX or straight): opens, nests or closes the quotation."""
        text, info = self.text, MARKS[mark]
        if mark == '"' and before.isdigit() and self.open_at is None:
            return  # inches: 6'3" tall
        if self.inner is not None:
            # inside a quote nested with the other family of marks ("… “inner” …")
            if info.family == self.inner and _role(text, pos, mark, True) == "close":
                self.inner = None
            return
        if (
            self.open_at is not None
            and info.family != self.open_family
            and _role(text, pos, mark, False) == "open"
        ):
            if info.direction == "open" or (info.direction == "either" and _looks_opening(text, pos, mark)):
                self.inner = info.family
                return
        role = _role(text, pos, mark, self.open_at is not None)
        if role == "open" and self.open_at is not None:
            if mark in PAIR_CLOSERS.get(self.open_str, ""):
                role = "close"
            elif info.direction == "open" and MARKS[self.open_str].direction == "open":
                # “how “are” you”: the same family nested keeps the outer quote
                if self.depth < _MAX_NESTING and info.family == self.open_family:
                    self.depth += 1
                    return
        if role == "open":
            self.open_at, self.open_mark, self.open_str, self.open_family = end, pos, mark, info.family
            self.depth = 0
            self.single_at = None
            if not self.reopened and self.carry and not text[self.start : pos].strip():
                self.reopened = True
            return
        if self.open_at is None:
            return
        if self.depth:
            self.depth -= 1
            return
        if text[self.open_at : pos].strip():
            span = QuoteSpan(self.open_at, pos, self.index, self.open_mark, pos)
            span.continued = self._continues_previous()
            self.spans.append(span)
        self.open_at = None

    def finish(self, p_end: int, next_start: int | None) -> bool:
        """Keep a quotation left open at the paragraph's end; whether it runs on into the next."""
        if self.open_at is None or not self.text[self.open_at : p_end].strip():
            return False
        runs_on = next_start is not None and self.text[next_start] in CONTINUATION_OPENERS
        span = QuoteSpan(self.open_at, p_end, self.index, self.open_mark, None, runs_on, closed=False)
        span.continued = self._continues_previous()
        self.spans.append(span)
        return runs_on

    def _continues_previous(self) -> bool:
        """The quotation reopened at the paragraph's start continues the one left open before."""
        return (
            self.reopened
            and bool(self.spans)
            and self.spans[-1].continues
            and not self.text[self.start : self.open_mark].strip()
        )


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
        para = _Paragraph(text, p_index, p_start, carry, spans)
        for m in _MARK.finditer(text, p_start, p_end):
            mark, pos = m.group(), m.start()
            while tag_i < len(tags) and tags[tag_i][1] <= pos:
                tag_i += 1
            if tag_i < len(tags) and tags[tag_i][0] <= pos:
                continue
            before = text[pos - 1] if pos > p_start else " "
            if MARKS[mark].family == "single":
                after = text[m.end()] if m.end() < p_end else " "
                para.single(mark, pos, m.end(), before, after)
            else:
                para.double(mark, pos, m.end(), before)
        next_start = paras[p_index + 1][0] if p_index + 1 < len(paras) else None
        carry = para.finish(p_end, next_start)
    return spans
