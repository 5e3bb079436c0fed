"""``stance soup MODEL MODEL [...] -o OUT``: one stance model from runs of one recipe, weights averaged."""

from __future__ import annotations

from pathlib import Path

import typer

from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import BatchSize


@cli_errors
def soup(
    models: list[Path] = typer.Argument(
        ..., help="two or more stance model folders: one recipe at other --train.seed, one --data.split_seed"
    ),
    output: Path = typer.Option(..., "--output", "-o", help="the soup's model folder (replaced atomically)"),
    batch_size: BatchSize = 64,
) -> None:
    """Average the weights of stance models trained on one split into one model folder.

    The soup costs what one member costs to run; it is calibrated and scored on the members' shared
    dev split, and its model card sets its figures beside each member's on the same rows.
    """
    setup_logging()
    from training.soup import write_soup

    results = write_soup(models, output, batch_size=batch_size)
    for spec, soup in results["dev_by_source"].items():
        members = ", ".join(
            f"{m['dev_by_source'][spec]['macro_f1']:.3f}" if spec in m["dev_by_source"] else "-"
            for m in results["soup_of"]
        )
        typer.echo(f"dev {spec}: macro-F1 {soup['macro_f1']:.3f} (members {members})")
    typer.echo(f"soup of {len(models)} models written to {output}")
