"""Bulk prediction over JSONL streams in constant memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, BinaryIO

from tqdm.auto import tqdm

from stance.analysis import apply_min_confidence
from stance.errors import InputError
from stance.files import parse_json_object
from stance.model.classifier import StanceClassifier
from stance.pairs import require_text


class BulkInputError(InputError):
    """A bad input line; the message names the source and line number."""


# 2 MB, as for a corpus article: a longer "row" is a dump or a binary file, not a text to classify
MAX_LINE_BYTES = 2_000_000


def text_lines(handle: BinaryIO, source: str, max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a binary stream as text, each checked before it is decoded.

    Raises:
        BulkInputError: a line over ``max_bytes`` (never read whole) or not UTF-8, by line number.
    """
    from stance.corpus.io import bounded_lines

    for line_no, (raw, size) in enumerate(bounded_lines(handle, max_bytes), start=1):
        if raw is None or size > max_bytes:
            raise BulkInputError(f"{source}:{line_no}: a line of {size:,} bytes; at most {max_bytes:,}")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as err:
            message = f"{source}:{line_no}: not UTF-8 text (byte {err.start} of the line)"
            raise BulkInputError(message) from None


def _parse(line: str | dict, line_no: int, topic: str | None, source: str) -> dict:
    if isinstance(line, dict):
        row = line
    elif not line.strip():
        return {}
    else:
        row = parse_json_object(line, f"{source}:{line_no}", BulkInputError)
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        found = "empty" if isinstance(text, str) else "none" if text is None else type(text).__name__
        raise BulkInputError(f"{source}:{line_no}: missing or empty 'text' (found {found})")
    row_topic = row.get("topic") or topic
    if not isinstance(row_topic, str) or not row_topic.strip():
        raise BulkInputError(f"{source}:{line_no}: no topic (give --topic or a 'topic' field)")
    context = row.get("context")
    context = context if isinstance(context, str) else None
    ident = row.get("id")
    # JSON may escape a lone surrogate ("\\ud800"), which the UTF-8 output cannot hold; a number or
    # a nested id is checked as it will be written
    written_id = ident if isinstance(ident, str) else json.dumps(ident, ensure_ascii=False)
    for name, value in (("text", text), ("topic", row_topic), ("context", context), ("id", written_id)):
        try:
            require_text(value, f"{source}:{line_no}: field {name!r}", optional=True)
        except InputError as err:
            raise BulkInputError(str(err)) from None
    return {"text": text, "topic": row_topic, "context": context, "id": ident}


def predict_stream(
    model: StanceClassifier,
    lines: Iterable[str | dict],
    out: IO[str],
    topic: str | None = None,
    batch_size: int = 64,
    chunk_size: int = 2048,
    source: str = "input",
    min_confidence: float | None = None,
) -> int:
    """Read rows (JSON lines or dicts), write one JSON line per row with the API's result fields.

    A prediction whose probability is under ``min_confidence`` is written with the label
    ``uncertain`` (:func:`stance.analysis.apply_min_confidence`); None keeps every label.

    Memory holds one chunk at a time, so a file of millions of lines streams through.

    Returns:
        The number of predictions written.
    """
    iterator = iter(enumerate(lines, start=1))
    written = 0
    bar = tqdm(desc="predict", unit="row", disable=None)
    while chunk := list(islice(iterator, chunk_size)):
        rows = [r for r in (_parse(line, no, topic, source) for no, line in chunk) if r]
        if not rows:
            continue
        preds = model.predict(
            [r["text"] for r in rows],
            [r["topic"] for r in rows],
            batch_size=batch_size,
            contexts=[r["context"] for r in rows],
        )
        preds = apply_min_confidence(preds, min_confidence)
        for row, pred in zip(rows, preds, strict=True):
            record = {"topic": row["topic"], **pred.to_dict()}
            if row["id"] is not None:
                record = {"id": row["id"], **record}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += len(rows)
        bar.update(len(rows))
    bar.close()
    return written
