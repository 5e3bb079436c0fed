"""``stance data list|fetch``: public stance data sets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.io import setup_logging

app = typer.Typer(help="Fetch public stance data sets.", no_args_is_help=True)


@app.command("list")
def data_list() -> None:
    """Public sets that `stance data fetch` can download."""
    from stance.fetch import SOURCES

    for name, source in SOURCES.items():
        typer.echo(f"{name:18} {source.url}")


@app.command("fetch")
@cli_errors
def data_fetch(
    name: Annotated[str, typer.Argument(help="a name from `stance data list`")],
    dest: Annotated[Path | None, typer.Option(help="data folder (default STANCE_DATA_DIR or ./data)")] = None,
    url: Annotated[str | None, typer.Option(help="override the upstream address (mirrors, tests)")] = None,
) -> None:
    """Download a public stance set, check its sha256 and write normalized JSONL."""
    setup_logging()
    from stance.fetch import FetchError, fetch

    dest = dest or Path(os.environ.get("STANCE_DATA_DIR", "data"))
    try:
        written = fetch(name, dest, url=url)
    except FetchError as err:
        fail(str(err))
    for path in written:
        typer.echo(f"wrote {path}")
