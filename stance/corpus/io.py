"""Read a corpus: a folder of ``.txt`` files, JSONL or CSV, one article per file, line or row.

Every article carries where it came from (input number, row number), so that output can be put
back in input order and a bad row can be reported by its number. Bad rows are yielded as
:class:`BadRow`, never raised: one broken article must not stop a run over thousands.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

# 2 MB is about twenty times the longest long-read; a bigger "article" is a dump or a binary file,
# and the splitter's passes over it would hold a worker for minutes.
MAX_ARTICLE_BYTES = 2_000_000
FIELDS = ("id", "text", "date", "source", "url", "title")
Kind = Literal["txt", "jsonl", "csv"]

_SUFFIXES: dict[str, Kind] = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}


class CorpusInputError(ValueError):
    """An input path or option that cannot be read at all (not a single bad row)."""


@dataclass(frozen=True)
class Article:
    """One article and where it came from (``input`` is the position of its file among the inputs)."""

    input: int
    row: int
    id: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A row that was skipped, and why; ``where`` is ``file:row`` for messages."""

    input: int
    row: int
    id: str
    where: str
    reason: str


@dataclass(frozen=True)
class InputFile:
    """One file to read: its position among the inputs, its row within a folder, and its kind."""

    path: Path
    input: int
    row: int
    kind: Kind


def list_inputs(inputs: Iterable[str | Path]) -> list[InputFile]:
    """Expand the command's inputs into files: a folder gives its ``.txt`` files, sorted.

    Raises:
        CorpusInputError: a path that does not exist, an empty folder, or an unknown suffix.
    """
    files: list[InputFile] = []
    for number, raw in enumerate(inputs):
        path = Path(raw)
        if path.is_dir():
            texts = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not texts:
                raise CorpusInputError(f"{path}: folder holds no .txt files")
            files.extend(InputFile(p, number, row, "txt") for row, p in enumerate(texts, start=1))
        elif path.exists():
            kind = _SUFFIXES.get(path.suffix.lower())
            if kind is None:
                raise CorpusInputError(
                    f"{path}: unknown input type {path.suffix!r}; give a folder of .txt files, .jsonl or .csv"
                )
            files.append(InputFile(path, number, 1, kind))
        else:
            raise CorpusInputError(f"{path}: no such file or folder")
    return files


def parse_columns(pairs: Iterable[str]) -> dict[str, str]:
    """``["text=body", "id=doc_id"]`` -> ``{"text": "body", "id": "doc_id"}``.

    Raises:
        CorpusInputError: a pair without ``=`` or a field other than id, text, date, source, url, title.
    """
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not column or field not in FIELDS:
            raise CorpusInputError(
                f"--column {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}"
            )
        mapping[field] = column
    return mapping


def read_articles(
    files: Iterable[InputFile],
    columns: Mapping[str, str] | None = None,
    max_bytes: int = MAX_ARTICLE_BYTES,
) -> Iterator[Article | BadRow]:
    """Articles and bad rows from every file, in input order, streaming (one row in memory)."""
    for file in files:
        with open(file.path, "rb") as handle:
            yield from parse_stream(handle, file, columns, max_bytes)


def parse_stream(
    handle: BinaryIO,
    file: InputFile,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = MAX_ARTICLE_BYTES,
) -> Iterator[Article | BadRow]:
    """Parse one file's bytes; the Ray backend calls this on the bytes Ray read, so both agree."""
    if file.kind == "txt":
        yield _txt_article(handle.read(), file, max_bytes)
    elif file.kind == "jsonl":
        yield from _jsonl_rows(handle, file, columns or {}, max_bytes)
    else:
        yield from _csv_rows(handle, file, columns or {}, max_bytes)


def _txt_article(data: bytes, file: InputFile, max_bytes: int) -> Article | BadRow:
    where = str(file.path)
    ident = file.path.stem
    if len(data) > max_bytes:
        return BadRow(file.input, file.row, ident, where, _too_big(len(data), max_bytes))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return BadRow(file.input, file.row, ident, where, f"invalid UTF-8 at byte {err.start}")
    if not text.strip():
        return BadRow(file.input, file.row, ident, where, "no text")
    return Article(file.input, file.row, ident, text)


def _too_big(size: int, max_bytes: int) -> str:
    return f"article of {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit (--max-article-mb)"


def _jsonl_rows(handle: BinaryIO, file: InputFile, columns: Mapping[str, str], max_bytes: int):
    for line_no, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        where = f"{file.path}:{line_no}"
        fallback = f"{file.path.name}:{line_no}"
        if len(raw) > max_bytes:
            yield BadRow(file.input, line_no, fallback, where, _too_big(len(raw), max_bytes))
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            yield BadRow(file.input, line_no, fallback, where, f"invalid UTF-8 at byte {err.start}")
            continue
        except json.JSONDecodeError as err:
            yield BadRow(file.input, line_no, fallback, where, f"not valid JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            yield BadRow(file.input, line_no, fallback, where, "not a JSON object")
            continue
        yield _article(row, file, line_no, where, fallback, columns, max_bytes)


def _csv_rows(handle: BinaryIO, file: InputFile, columns: Mapping[str, str], max_bytes: int):
    # surrogateescape keeps undecodable bytes as lone surrogates, so one bad row is found and
    # reported instead of the whole file failing to decode.
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
    csv.field_size_limit(2**31 - 1)  # the size check below gives the clear error
    reader = csv.DictReader(text)
    for row_no, row in enumerate(reader, start=1):
        where = f"{file.path}: row {row_no} (line {reader.line_num})"
        fallback = f"{file.path.name}:{row_no}"
        bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogate(v)]
        if bad:
            ident = row.get(columns.get("id", "id"))
            ident = ident if ident and columns.get("id", "id") not in bad else fallback
            yield BadRow(file.input, row_no, ident, where, f"invalid UTF-8 in column {bad[0]!r}")
            continue
        yield _article(row, file, row_no, where, fallback, columns, max_bytes)


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _article(row: dict, file: InputFile, row_no: int, where: str, fallback: str, columns, max_bytes):
    def get(field: str):
        return row.get(columns.get(field, field))

    ident = get("id")
    ident = fallback if ident is None or ident == "" else str(ident)
    text = get("text")
    if text is None or text == "":
        return BadRow(file.input, row_no, ident, where, f"no text (column {columns.get('text', 'text')!r})")
    if not isinstance(text, str):
        return BadRow(file.input, row_no, ident, where, f"text is a {type(text).__name__}, not a string")
    if len(text) > max_bytes // 4 and len(text.encode("utf-8")) > max_bytes:
        return BadRow(file.input, row_no, ident, where, _too_big(len(text.encode("utf-8")), max_bytes))
    if not text.strip():
        return BadRow(file.input, row_no, ident, where, "no text (only whitespace)")
    meta = {}
    for field in ("date", "source", "url", "title"):
        value = get(field)
        meta[field] = None if value is None or value == "" else str(value)
    return Article(file.input, row_no, ident, text, **meta)


def count_rows(files: Iterable[InputFile]) -> int | None:
    """Rows to expect, for the progress bar's ETA; None when an input cannot be counted cheaply."""
    total = 0
    for file in files:
        if file.kind == "txt":
            total += 1
        elif not file.path.is_file():
            return None  # a pipe can be read once only
        elif file.kind == "jsonl":
            with open(file.path, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            with open(file.path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
                total += max(0, sum(1 for _ in csv.reader(handle)) - 1)
    return total
