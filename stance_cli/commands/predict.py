"""``stance predict MODEL``: stream JSONL in and predictions out, in constant memory."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from stance.errors import InputError
from stance.options import Precision
from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import (
    AllowUnverified,
    BatchSize,
    Int8,
    MinConfidence,
    ModelArg,
    PrecisionOpt,
    load_model,
)


@cli_errors
def predict(
    model: ModelArg,
    topic: Annotated[str | None, typer.Option(help="topic for every row (rows may carry their own)")] = None,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSONL with text[, topic, context]")
    ] = None,
    text: Annotated[list[str] | None, typer.Option("--text", help="a text to classify (repeatable)")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL output (default stdout)")
    ] = None,
    batch_size: BatchSize = 64,
    chunk_size: Annotated[int, typer.Option(min=1, help="rows held in memory at a time")] = 2048,
    int8: Int8 = False,
    precision: PrecisionOpt = Precision.fp32,
    allow_unverified: AllowUnverified = False,
    min_confidence: MinConfidence = None,
) -> None:
    """Stream JSONL in and predictions out, in constant memory."""
    setup_logging()
    from stance.atomic import atomic_file
    from stance.bulk import predict_stream, text_lines

    if (input is None) == (not text):
        raise InputError("give exactly one of --input FILE.jsonl or --text ...")
    if input is not None and str(input) != "-" and not input.is_file():
        raise InputError(f"{input}: no such file")
    clf = load_model(model, precision, int8, allow_unverified)
    rows: Iterable[str | dict]
    if text:
        rows = iter([{"text": t} for t in text])
        source = "--text"
    else:
        assert input is not None
        source = str(input)
        # bytes in, checked line by line: bad UTF-8 or a huge line is one error naming its line
        rows = text_lines(sys.stdin.buffer if source == "-" else open(input, "rb"), source)
    if output:
        with atomic_file(output) as out:
            n = predict_stream(clf, rows, out, topic, batch_size, chunk_size, source, min_confidence)
        typer.echo(f"wrote {n} predictions to {output}", err=True)
    else:
        predict_stream(clf, rows, sys.stdout, topic, batch_size, chunk_size, source, min_confidence)
