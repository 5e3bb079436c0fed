"""Read a corpus: a folder of ``.txt`` files, JSONL or CSV, one article per file, line or row.

Every article carries where it came from (input number, row number), so that output can be put
back in input order and a bad row can be reported by its number. Bad rows are yielded as
:class:`BadRow`, never raised: one broken article must not stop a run over thousands.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from stance.errors import CorpusInputError

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
        # one byte past the limit is enough to refuse a file without reading it whole
        yield _txt_article(handle.read(max_bytes + 1), file, max_bytes, _size(handle))
    elif file.kind == "jsonl":
        yield from _jsonl_rows(handle, file, columns or {}, max_bytes)
    else:
        yield from _csv_rows(handle, file, columns or {}, max_bytes)


def _size(handle: BinaryIO) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None  # a pipe or the bytes the Ray backend read


def _txt_article(data: bytes, file: InputFile, max_bytes: int, size: int | None = None) -> Article | BadRow:
    where = str(file.path)
    ident = file.path.stem
    if len(data) > max_bytes:
        return BadRow(file.input, file.row, ident, where, _too_big(size or len(data), max_bytes))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return BadRow(file.input, file.row, ident, where, f"invalid UTF-8 at byte {err.start}")
    if not text.strip():
        return BadRow(file.input, file.row, ident, where, "no text")
    return Article(file.input, file.row, ident, text)


def _too_big(size: int, max_bytes: int, what: str = "article") -> str:
    return f"{what} of {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit (--max-article-mb)"


def bounded_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[bytes | None, int]]:
    """``(line, size)`` for each line; a line longer than ``max_bytes`` comes as ``(None, size)``,
    skipped in 1 MB reads, so it is never held whole."""
    while raw := handle.readline(max_bytes + 1):
        if len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        size = len(raw)
        while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
            size += len(rest)
        yield None, size + len(rest)


def _json_problem(raw: bytes) -> tuple[object, str | None]:
    """The parsed line, or why it is not a JSON value (never raises)."""
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError as err:
        return None, f"invalid UTF-8 at byte {err.start}"
    except json.JSONDecodeError as err:
        return None, f"not valid JSON ({err.msg})"
    except RecursionError:
        return None, "not valid JSON (nested too deep)"
    except ValueError as err:
        # Python refuses integers past 4,300 digits (a quadratic conversion)
        return None, f"not valid JSON ({str(err).split(';')[0]})"


def _jsonl_rows(handle: BinaryIO, file: InputFile, columns: Mapping[str, str], max_bytes: int):
    for line_no, (raw, size) in enumerate(bounded_lines(handle, max_bytes), start=1):
        where = f"{file.path}:{line_no}"
        fallback = f"{file.path.name}:{line_no}"
        if raw is None or len(raw) > max_bytes:
            yield BadRow(file.input, line_no, fallback, where, _too_big(size, max_bytes, "line"))
            continue
        if not raw.strip():
            continue
        row, problem = _json_problem(raw)
        if problem is not None:
            yield BadRow(file.input, line_no, fallback, where, problem)
            continue
        if not isinstance(row, dict):
            yield BadRow(file.input, line_no, fallback, where, "not a JSON object")
            continue
        # JSON may escape a lone surrogate ("\\ud800"), which no UTF-8 output can hold: the row is
        # bad, as a CSV row of invalid UTF-8 is, and the run goes on
        names = [columns.get(f, f) for f in FIELDS]
        bad = [n for n in names if isinstance(row.get(n), str) and _has_surrogate(row[n])]
        if bad:
            ident = row.get(columns.get("id", "id"))
            ident = str(ident) if ident not in (None, "") and columns.get("id", "id") not in bad else fallback
            yield BadRow(file.input, line_no, ident, where, f"an unpaired surrogate in field {bad[0]!r}")
            continue
        yield _article(row, file, line_no, where, fallback, columns, max_bytes)


def _csv_rows(handle: BinaryIO, file: InputFile, columns: Mapping[str, str], max_bytes: int):
    # a field may span lines, so each line is bounded on its own and each field by the csv module,
    # whose limit is process-wide: set for this file, then put back
    previous = csv.field_size_limit(max_bytes + 1)
    try:
        yield from _csv_records(handle, file, columns, max_bytes)
    finally:
        csv.field_size_limit(previous)


def _csv_records(handle: BinaryIO, file: InputFile, columns: Mapping[str, str], max_bytes: int):
    reader = csv.DictReader(_csv_lines(handle, max_bytes))
    row_no = 0
    while True:
        row_no += 1
        where = f"{file.path}: row {row_no} (line {reader.line_num + 1})"
        fallback = f"{file.path.name}:{row_no}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            # past a field over the limit the reader has lost its place among the quote marks
            reason = f"unreadable CSV ({err}); the rest of the file is skipped"
            yield BadRow(file.input, row_no, fallback, where, reason)
            return
        where = f"{file.path}: row {row_no} (line {reader.line_num})"
        if any(isinstance(v, str) and _LINE_TOO_LONG in v for v in row.values()):
            reason = f"a line over the {max_bytes / 1e6:.1f} MB limit"
            yield BadRow(file.input, row_no, fallback, where, reason)
            continue
        bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogate(v)]
        if bad:
            ident = row.get(columns.get("id", "id"))
            ident = ident if ident and columns.get("id", "id") not in bad else fallback
            yield BadRow(file.input, row_no, ident, where, f"invalid UTF-8 in column {bad[0]!r}")
            continue
        yield _article(row, file, row_no, where, fallback, columns, max_bytes)


# stands in for a line too long to read; a row holding it is skipped as bad (a private-use mark)
_LINE_TOO_LONG = "\ue000line too long\ue000"


def _csv_lines(handle: BinaryIO, max_bytes: int) -> Iterator[str]:
    # surrogateescape keeps undecodable bytes as lone surrogates, so one bad row is found and
    # reported instead of the whole file failing to decode.
    for raw, _ in bounded_lines(handle, max_bytes):
        yield _LINE_TOO_LONG + "\n" if raw is None else raw.decode("utf-8", errors="surrogateescape")


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
        else:
            # newlines counted in 1 MB blocks: no line is held whole (an estimate for CSV, whose
            # fields may span lines)
            with open(file.path, "rb") as handle:
                lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
            total += max(0, lines - 1) if file.kind == "csv" else lines
    return total
