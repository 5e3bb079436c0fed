"""Bulk prediction over JSONL streams in constant memory."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import IO

from tqdm.auto import tqdm

from stance.data import parse_json_object
from stance.errors import InputError
from stance.model import StanceClassifier


class BulkInputError(InputError):
    """A bad input line; the message names the source and line number."""


def _parse(line: str | dict, line_no: int, topic: str | None, source: str) -> dict:
    if isinstance(line, dict):
        row = line
    elif not line.strip():
        return {}
    else:
        row = parse_json_object(line, f"{source}:{line_no}", BulkInputError)
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BulkInputError(f"{source}:{line_no}: missing or empty 'text'")
    row_topic = row.get("topic") or topic
    if not isinstance(row_topic, str) or not row_topic.strip():
        raise BulkInputError(f"{source}:{line_no}: no topic (give --topic or a 'topic' field)")
    context = row.get("context")
    return {
        "text": text,
        "topic": row_topic,
        "context": context if isinstance(context, str) else None,
        "id": row.get("id"),
    }


def predict_stream(
    model: StanceClassifier,
    lines: Iterable[str | dict],
    out: IO[str],
    topic: str | None = None,
    batch_size: int = 64,
    chunk_size: int = 2048,
    source: str = "input",
) -> int:
    """Read rows (JSON lines or dicts), write one JSON line per row with the API's result fields.

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
        for row, pred in zip(rows, preds, strict=True):
            record = {"topic": row["topic"], **pred.to_dict()}
            if row["id"] is not None:
                record = {"id": row["id"], **record}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += len(rows)
        bar.update(len(rows))
    bar.close()
    return written
