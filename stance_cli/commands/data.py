"""``stance data list|fetch|mirror``: public stance data sets by name."""

from __future__ import annotations

from pathlib import Path

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.io import setup_logging

app = typer.Typer(help="Fetch public stance data sets.", no_args_is_help=True)
data_app = app


@data_app.command("list")
@cli_errors
def data_list() -> None:
    """Public sets that `stance data fetch` can download, with their sources and terms."""
    from stance.data.fetch import POLNEAR, licence_notice
    from stance.data.sources import fetchable_sets

    for name in [*fetchable_sets(), POLNEAR]:
        typer.echo(licence_notice(name))


@data_app.command("fetch")
@cli_errors
def data_fetch(
    names: list[str] = typer.Argument(None, help="names from `stance data list`"),
    for_config: Path = typer.Option(None, "--for", help="also fetch what this config needs and lacks"),
    dest: Path = typer.Option(None, help="data folder (default STANCE_DATA_DIR, else ./data)"),
    mirror: str = typer.Option(None, help="base address or folder replacing upstream [STANCE_DATA_MIRROR]"),
    offline_ok: bool = typer.Option(
        False, "--offline-ok", help="exit 0 with a note when upstream or the mirror cannot be reached"
    ),
) -> None:
    """Download public stance sets at pinned commits, check their sha256, write normalized JSONL."""
    setup_logging()
    from stance.config import ConfigError
    from stance.data.fetch import FetchError, Unreachable, fetch, licence_notice, plan
    from stance.settings import data_dir, fetch_dir

    root = dest or data_dir(required=False)
    try:
        todo = plan(names or (), for_config, root=root)
    except (FetchError, ConfigError, FileNotFoundError) as err:
        fail(str(err))
    if not todo:
        typer.echo(f"{for_config}: every set it needs is already in {root}", err=True)
        return
    for name in todo:
        typer.echo(licence_notice(name), err=True)
    try:
        for name in todo:
            for path in fetch(name, dest or fetch_dir(), mirror=mirror):
                typer.echo(f"wrote {path}")
    except Unreachable as err:
        if not offline_ok:
            fail(str(err))
        typer.echo(f"note: {err} Going on without these sets (--offline-ok).", err=True)
    except FetchError as err:
        fail(str(err))


@data_app.command("mirror")
@cli_errors
def data_mirror(
    dest: Path = typer.Argument(..., help="folder to lay out as owner/repo/commit/path"),
    source: Path = typer.Option(None, "--from", help="data folder with stance/*/original/ (default: found)"),
) -> None:
    """Build a local mirror for STANCE_DATA_MIRROR from a data folder's verified original files."""
    from stance.data.fetch import FetchError, build_mirror
    from stance.settings import DataNotFoundError, data_dir

    try:
        mirrored = build_mirror(source or data_dir(), dest)
    except DataNotFoundError as err:
        fail(str(err), 3)
    except FetchError as err:
        fail(str(err))
    typer.echo(f"{dest}: {', '.join(mirrored) or 'no set had all its original files'}")
