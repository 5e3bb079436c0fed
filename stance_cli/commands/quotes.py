"""``stance quotes FILE...``: direct quotations and their speakers (no model needed)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stance.errors import InputError
from stance_cli.errors import cli_errors
from stance_cli.io import Format, read_input


def speaker_label(quote) -> str:
    """The speaker, the unresolved mention in brackets, or a dash."""
    return quote.speaker or (f"({quote.speaker_mention})" if quote.speaker_mention else "-")


@cli_errors
def quotes(
    files: Annotated[list[str], typer.Argument(help="article text files; - reads stdin")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Find direct quotations and their speakers in article text."""
    from stance.quotes import extract_quotes

    if format == Format.json and len(files) > 1:
        raise InputError("--format json takes one file; use --format jsonl for several")
    for path in files:
        found = extract_quotes(read_input(path))
        records = [q.to_dict() for q in found]
        if format == Format.json:
            typer.echo(json.dumps({"quotes": records}, ensure_ascii=False, indent=2))
        elif format == Format.jsonl:
            typer.echo(json.dumps({"file": path, "quotes": records}, ensure_ascii=False))
        else:
            if len(files) > 1:
                typer.echo(f"== {path}")
            typer.echo(f"{'#':>3} {'speaker':24} {'cue':12} {'kind':6} quote")
            for i, q in enumerate(found):
                text = q.text if len(q.text) <= 70 else q.text[:67] + "..."
                typer.echo(f"{i:>3} {speaker_label(q)[:24]:24} {(q.cue or '-')[:12]:12} {q.kind:6} {text}")
