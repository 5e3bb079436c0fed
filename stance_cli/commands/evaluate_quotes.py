"""``stance evaluate-quotes [PATH]``: score the quote splitter on PolNeAR direct quotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stance.errors import DataNotFoundError, InputError
from stance_cli.errors import cli_errors


@cli_errors
def evaluate_quotes(
    path: Annotated[
        Path | None, typer.Argument(help="PolNeAR folder (default $STANCE_DATA_DIR/quotes/polnear)")
    ] = None,
    split: Annotated[str, typer.Option(help="dev, test or train")] = "dev",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON file for the figures")] = None,
) -> None:
    """Score the quote splitter on PolNeAR direct quotes."""
    from stance.atomic import atomic_file
    from training.quotes_eval import evaluate_quotes as run

    if split not in {"train", "dev", "test"}:
        raise InputError(f"--split {split!r}; expected train, dev or test")
    try:
        result = run(path, split)
    except FileNotFoundError as err:
        raise DataNotFoundError(str(err)) from None
    for key, value in result.items():
        typer.echo(f"{key:22} {value:.3f}" if isinstance(value, float) else f"{key:22} {value}")
    if output:
        with atomic_file(output) as handle:
            json.dump(result, handle, indent=2)
        typer.echo(f"wrote {output}")
