"""Read PolNeAR (brat standoff) and derive gold quotes.

Direct: the quoted parts of each Content. Reported (indirect): each Content span with no quote
mark in it, the attributions whose content lies outside quote marks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stance.errors import DataError
from stance.settings import data_dir

logger = logging.getLogger(__name__)

# NYT copy in PolNeAR writes ''…'' for quotes; they count like straight double quotes.
_DOUBLE = re.compile(r"''|[“”\"«»„]")
_OPENERS = set("“«„")
_CLOSERS = set("”»")


@dataclass(frozen=True)
class GoldQuote:
    start: int
    end: int
    source: str | None
    source_start: int | None
    source_end: int | None


@dataclass(frozen=True)
class Article:
    name: str
    text: str
    quotes: tuple[GoldQuote, ...]
    reported: tuple[GoldQuote, ...] = ()
    # every (role, start, end) piece of every attribution: Source, Cue, Content (tagger gold)
    roles: tuple[tuple[str, int, int], ...] = ()


def polnear_dir(path: str | Path | None = None) -> Path:
    """The PolNeAR folder: ``path`` if given, else ``$STANCE_DATA_DIR/quotes/polnear``."""
    path = Path(path) if path else data_dir() / "quotes" / "polnear"
    if not path.is_dir():
        raise FileNotFoundError(f"PolNeAR not found at {path}; set STANCE_DATA_DIR")
    return path


def quoted_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Inner spans of the quotation-marked parts of ``text[start:end]``.

    A content that opens with a closing mark began inside a quote (the part before it is quoted);
    one that ends on an unmatched opening mark runs on to its end.
    """
    marks = [(m.start(), m.group()) for m in _DOUBLE.finditer(text, start, end)]
    parts = []
    open_at = None
    for i, (pos, mark) in enumerate(marks):
        ch = mark[0] if mark != "''" else '"'
        is_open = ch in _OPENERS or (ch == '"' and open_at is None)
        if ch in _CLOSERS and open_at is None and i == 0:
            parts.append((start, pos))
        elif is_open and open_at is None:
            open_at = pos + len(mark)
        elif open_at is not None and ch not in _OPENERS:
            parts.append((open_at, pos))
            open_at = None
        elif ch in _OPENERS:
            open_at = pos + len(mark)
    if open_at is not None and end - open_at > 0:
        parts.append((open_at, end))
    return [(a, b) for a, b in parts if text[a:b].strip(" ,.")]


# E-relation keys and the tagger role each holds (a second content piece is a Content too)
_ROLE_KEYS = (("Source", "Source"), ("Cue", "Cue"), ("Content", "Content"), ("Content2", "Content"))
_ANY_MARK = re.compile(r"''|``|[“”\"«»„]")


def _read_utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 (byte {err.start})") from None


def _spans(field: str, size: int, where: str) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of a text-bound annotation's ``Label START END[;START END...]``."""
    label, _, offsets = field.partition(" ")
    pieces = []
    for piece in offsets.split(";"):
        try:
            start, end = (int(n) for n in piece.split())
        except ValueError:
            raise DataError(
                f"{where}: {label} expects character offsets START END, found {piece.strip()!r}"
            ) from None
        if not 0 <= start <= end <= size:
            raise DataError(f"{where}: {label} span {start}-{end} is outside the text ({size} characters)")
        pieces.append((start, end))
    return pieces


def _parse_ann(path: Path, text: str) -> tuple[list[GoldQuote], list[GoldQuote], list[tuple[str, int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    events = []
    # brat standoff is one annotation per \n-ended line; a span's text may hold other line breaks
    for line_no, line in enumerate(_read_utf8(path).split("\n"), start=1):
        fields = line.rstrip("\r").split("\t")
        if line.startswith("T") and len(fields) >= 2:
            spans[fields[0]] = _spans(fields[1], len(text), f"{path}:{line_no}")
        elif line.startswith("E") and len(fields) >= 2:
            arguments = fields[1].split()
            if not all(":" in a for a in arguments):
                raise DataError(f"{path}:{line_no}: an event argument without ROLE:ID in {fields[1]!r}")
            events.append(dict(a.split(":", 1) for a in arguments))
    gold = []
    reported = []
    roles: set[tuple[str, int, int]] = set()
    for event in events:
        for key, role in _ROLE_KEYS:
            roles.update((role, a, b) for a, b in spans.get(event.get(key, ""), []) if text[a:b].strip())
        if "Content" not in event:
            continue
        source = event.get("Source")
        s_spans = spans.get(source) if source else None
        s_start = s_spans[0][0] if s_spans else None
        s_end = s_spans[-1][1] if s_spans else None
        s_text = text[s_start:s_end] if s_spans else None
        for key in ("Content", "Content2"):
            for start, end in spans.get(event.get(key, ""), []):
                for a, b in quoted_parts(text, start, end):
                    gold.append(GoldQuote(a, b, s_text, s_start, s_end))
                if not _ANY_MARK.search(text, start, end) and text[start:end].strip():
                    reported.append(GoldQuote(start, end, s_text, s_start, s_end))
    order = lambda q: (q.start, q.end)  # noqa: E731
    return sorted(set(gold), key=order), sorted(set(reported), key=order), sorted(roles, key=lambda r: r[1:])


def load_polnear(split: str = "dev", path: str | Path | None = None) -> Iterator[Article]:
    """Articles of a PolNeAR split with gold quotes, one annotator per article (the first file).

    Raises:
        FileNotFoundError: no PolNeAR folder, split or article text.
        DataError: an annotation file or text that is not UTF-8, or an annotation line that is not
            brat standoff (``path:line``).
    """
    root = polnear_dir(path) / split
    if not root.is_dir():
        raise FileNotFoundError(f"PolNeAR has no split {split!r} under {root.parent}")
    chosen: dict[str, Path] = {}
    for ann in sorted((root / "attributions").glob("*.ann")):
        chosen.setdefault(ann.stem.rsplit("_", 1)[0], ann)
    for stem, ann in chosen.items():
        text = _read_utf8(root / "text" / f"{stem}.txt")
        direct, reported, roles = _parse_ann(ann, text)
        yield Article(stem, text, tuple(direct), tuple(reported), tuple(roles))
