"""Text primitives: HTML entities with an offset map, paragraphs, tokens and sentences.

Quoted regions are never replaced by a placeholder character: a tokenised stretch of text holds
one :class:`Tok` per quotation whose ``quote`` flag is set, so a real ``§`` in an article is an
ordinary token.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from stance.lexicon import ABBREVIATIONS, PARTICLES

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_entities(text: str) -> tuple[str, list[int] | None]:
    """Decode HTML entities; return the decoded text and, if it changed, an offset map.

    ``offsets[i]`` is the index in ``text`` of decoded character ``i`` (one extra entry for the end).

    Example:
        >>> decode_entities("a &amp; b")[0]
        'a & b'
    """
    if "&" not in text:
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    last = 0
    for m in _ENTITY.finditer(text):
        decoded = html.unescape(m.group())
        if decoded == m.group():
            continue
        out.append(text[last : m.start()])
        offsets.extend(range(last, m.start()))
        out.append(decoded)
        offsets.extend([m.start()] * len(decoded))
        last = m.end()
    if not offsets and last == 0:
        return text, None
    out.append(text[last:])
    offsets.extend(range(last, len(text) + 1))
    return "".join(out), offsets


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_LINE_BREAK = re.compile(r"\n")
# A line that ends like this ends its paragraph even where paragraphs are separated by blank lines.
_PARAGRAPH_END = tuple('.!?:;"”’»)')


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, without surrounding whitespace.

    A text that separates paragraphs with blank lines treats a single newline after a line that
    stops mid-sentence as a hard wrap (a quote runs across it); a text without blank lines puts
    one paragraph per line, as news copy pasted from a web page does.

    Example:
        >>> paragraphs("One.\\n\\nTwo,\\nwrapped.")
        [(0, 4), (6, 19)]
    """
    blank = _BLANK_LINE.search(text) is not None
    spans = []
    start = line_start = 0
    for m in [*_LINE_BREAK.finditer(text), None]:
        cut = m.start() if m else len(text)
        line = text[line_start:cut].rstrip()
        line_start = m.end() if m else len(text)
        if m is not None and blank and line.strip():
            nxt = text[m.end() : m.end() + 1]
            if nxt and not nxt.isspace() and not line.endswith(_PARAGRAPH_END):
                continue  # a hard wrap inside the paragraph
        chunk = text[start:cut]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((start + lead, start + len(chunk.rstrip())))
        start = m.end() if m else len(text)
    return spans


_TITLE_ABBREV = "Mr|Mrs|Ms|Dr|Sens?|Reps?|Govs?|Gen|St|Lt|Col|Rev|Jr|Sr|Prof|Capt|Sgt|Adm|Hon|Mt|Ft"
_TOKEN = re.compile(
    rf"(?:[A-Z]\.){{2,}}|\b(?:{_TITLE_ABBREV})\.(?=\s)|[A-Z]\.(?=\s+[A-Z])|\w+(?:[-'’]\w+)*(?:['’]s?)?|\S"
)


@dataclass(frozen=True, slots=True)
class Tok:
    """A word or punctuation mark, or (``quote`` set, empty ``text``) a whole quotation."""

    text: str
    start: int
    end: int
    quote: bool = False

    @property
    def lower(self) -> str:
        return self.text.lower().rstrip(".")

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()


def is_particle(tok: Tok) -> bool:
    """'van', 'der', 'da', and hyphen-joined 'al-Rashid': lower-case parts of a name."""
    if tok.text in PARTICLES:
        return True
    head, _, tail = tok.text.partition("-")
    return head in PARTICLES and tail[:1].isupper()


class Regions:
    """Sorted, disjoint (start, end) stretches of quoted text (outer marks included)."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [a for a, _ in self.spans]

    def first_from(self, pos: int) -> int:
        """Index of the first region that ends after ``pos``."""
        i = bisect_right(self.starts, pos) - 1
        if i >= 0 and self.spans[i][1] > pos:
            return i
        return i + 1

    def inside(self, pos: int) -> bool:
        i = bisect_right(self.starts, pos) - 1
        return i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]


def tokenize(text: str, start: int, end: int, regions: Regions | None = None) -> list[Tok]:
    """Tokens of ``text[start:end]``; each quotation that begins inside becomes one quote token."""
    out: list[Tok] = []
    pos = start
    i = regions.first_from(start) if regions else 0
    spans = regions.spans if regions else []
    while pos < end:
        if i < len(spans) and spans[i][0] < end:
            q_start, q_end = spans[i]
            out.extend(_words(text, pos, max(pos, q_start)))
            q_start = max(q_start, pos)
            if q_end > q_start:
                out.append(Tok("", q_start, q_end, quote=True))
            pos = max(pos, q_end)
            i += 1
        else:
            out.extend(_words(text, pos, end))
            break
    return out


def _words(text: str, start: int, end: int) -> list[Tok]:
    return [Tok(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]


# A run of . ! ? must start where the previous character is not one: without the look-behind the
# regex restarts inside a long run of dots and backtracks over its rest (quadratic).
_SENTENCE_END = re.compile(r"(?<![.!?])[.!?]+[)\]]*\s+(?=[A-Z“\"‘(«„`'])")
_ABBREV = re.compile(rf"\b(?:{'|'.join(map(re.escape, ABBREVIATIONS))}|[A-Z])\.$")


def sentence_bounds(text: str, p_start: int, p_end: int, regions: Regions) -> list[tuple[int, int]]:
    """Sentences of a paragraph; full stops inside quotations do not end a sentence."""
    bounds = []
    start = p_start
    for m in _SENTENCE_END.finditer(text, p_start, p_end):
        if regions.inside(m.start()):
            continue
        stop = m.start() + 1
        # the longest abbreviation is five letters and a dot
        if _ABBREV.search(text, max(p_start, stop - 6), stop):
            continue
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, p_end))
    return bounds
