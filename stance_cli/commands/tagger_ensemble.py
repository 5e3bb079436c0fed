"""``stance tagger-ensemble``: one tagger folder from several, their probabilities averaged."""

from __future__ import annotations

from pathlib import Path

import typer

from stance_cli.errors import cli_errors


@cli_errors
def tagger_ensemble(
    taggers: list[Path] = typer.Argument(..., help="two or more attribution tagger folders"),
    output: Path = typer.Option(..., "--output", "-o", help="the ensemble folder (replaced atomically)"),
    weights: list[float] = typer.Option(
        None, "--weight", "-w", help="each tagger's share, in the order given (default: equal)"
    ),
) -> None:
    """Join attribution taggers that share word pieces (MiniLM and mpnet do) into one folder.

    The folder holds a verified copy of each tagger and ensemble.json; STANCE_TAGGER_PATH,
    `stance evaluate-quotes --model` and the service read it like one tagger.
    """
    from stance.quotes.tagger import write_ensemble

    folder = write_ensemble(taggers, weights or None, output)
    typer.echo(f"tagger ensemble of {len(taggers)} written to {folder}")
