"""``stance analyze FILE --topic T``: quotes, speakers and their stance toward each topic."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stance.errors import MODEL_HOWTO, InputError, ModelNotFoundError
from stance.options import Precision
from stance_cli.commands.quotes import speaker_label
from stance_cli.errors import cli_errors
from stance_cli.io import Format, read_input, setup_logging
from stance_cli.options import (
    DEFAULT_MODEL,
    AllowUnverified,
    Int8,
    MinConfidence,
    ModelPath,
    PrecisionOpt,
    load_model,
)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cli_errors
def analyze(
    file: Annotated[str, typer.Argument(help="article text file; - reads stdin")],
    topic: Annotated[list[str] | None, typer.Option("--topic", "-t", help="topic (repeatable)")] = None,
    no_stance: Annotated[
        bool, typer.Option("--no-stance", help="quotes, speakers and context only; no model needed")
    ] = False,
    model: ModelPath = DEFAULT_MODEL,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    int8: Int8 = False,
    precision: PrecisionOpt = Precision.fp32,
    allow_unverified: AllowUnverified = False,
    min_confidence: MinConfidence = None,
) -> None:
    """Quotes, speakers and their stance toward each topic (--no-stance: without a model)."""
    setup_logging()
    from stance.analysis import analyze as run_analyze
    from stance.analysis import quotes_with_context

    text = read_input(file)
    indent = 2 if format == Format.json else None
    if no_stance:
        found = quotes_with_context(text)
        if format != Format.table:
            records = [{**q.to_dict(), "context": c} for q, c in found]
            typer.echo(json.dumps({"quotes": records}, ensure_ascii=False, indent=indent))
            return
        for q, _ in found:
            typer.echo(f"{speaker_label(q)}: “{_short(q.text)}”")
        return
    if not topic:
        raise InputError("give at least one --topic, or --no-stance for quotes only")
    try:
        clf = load_model(model, precision, int8, allow_unverified)
    except ModelNotFoundError as err:
        raise ModelNotFoundError(f"{err}. {MODEL_HOWTO} `--no-stance` works without one.") from None
    result = run_analyze(text, topic, clf, min_confidence=min_confidence)
    if format != Format.table:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=indent))
        return
    for qa in result.quotes:
        typer.echo(f"{speaker_label(qa.quote)}: “{_short(qa.quote.text)}”")
        for s in qa.stances:
            typer.echo(f"    {s.topic:24} {s.label:8} {s.score:.2f}")
    typer.echo("\nspeaker summary")
    for summary in result.speakers:
        typer.echo(f"  {summary.speaker:28} {summary.topic:24} {summary.stance:8} ({summary.quotes} quotes)")
