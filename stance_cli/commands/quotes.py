"""``stance quotes FILE...``: quotations and reported speech with their speakers and rules."""

from __future__ import annotations

import json

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.io import Format, read_input


def speaker_label(quote) -> str:
    """The speaker, the unresolved mention in brackets, or a dash."""
    return quote.speaker or (f"({quote.speaker_mention})" if quote.speaker_mention else "-")


@cli_errors
def quotes(
    files: list[str] = typer.Argument(..., help="article text files; - reads stdin"),
    format: Format = typer.Option(Format.table, "--format", "-f"),
    kinds: str = typer.Option("direct,mixed", "--kinds", help="direct, mixed, indirect (comma-separated)"),
    explain: bool = typer.Option(False, "--explain", help="show the rule that attributed each quote"),
) -> None:
    """Find quotations (and, with --kinds indirect, reported speech) and their speakers."""
    from stance.quotes import extract_quotes, normalize_kinds

    if format == Format.json and len(files) > 1:
        fail("--format json takes one file; use --format jsonl for several")
    try:
        wanted = normalize_kinds(kinds)
    except ValueError as err:
        fail(f"--kinds: {err}")
    for path in files:
        found = extract_quotes(read_input(path), kinds=wanted)
        records = [q.to_dict() for q in found]
        if format == Format.json:
            typer.echo(json.dumps({"quotes": records}, ensure_ascii=False, indent=2))
        elif format == Format.jsonl:
            typer.echo(json.dumps({"file": path, "quotes": records}, ensure_ascii=False))
        else:
            if len(files) > 1:
                typer.echo(f"== {path}")
            rule_head = f"{'rule':17} " if explain else ""
            typer.echo(f"{'#':>3} {'speaker':24} {'cue':12} {'kind':8} {rule_head}quote")
            for i, q in enumerate(found):
                speaker = speaker_label(q)
                text = q.text if len(q.text) <= 70 else q.text[:67] + "..."
                rule = f"{(q.rule or '-')[:17]:17} " if explain else ""
                typer.echo(f"{i:>3} {speaker[:24]:24} {(q.cue or '-')[:12]:12} {q.kind:8} {rule}{text}")


