"""``stance labels export|import|stats``: the label store (``stance.data.labelstore``) on the command line.

The database is ``--db``, else ``STANCE_LABELS_DB``, else ``labels.sqlite3`` (the service's
default too). Whoever can read the file sees every key's rows; ``--api-key-file`` keeps one key's.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.io import Format

app = typer.Typer(help="Your own stance labels: export, import, count.", no_args_is_help=True)

DbOpt = Annotated[
    Path | None, typer.Option("--db", help="label database [STANCE_LABELS_DB, else labels.sqlite3]")
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--api-key-file", help="only this key's rows (a file holding the key, never the key)"),
]


def _store(db: Path | None, must_exist: bool = True):
    from stance.data.labelstore import LabelStore, default_path

    path = db or default_path()
    if must_exist and not path.is_file():
        fail(f"no label database at {path}; label on the page, or `stance labels import FILE`", 3)
    return LabelStore(path)


def _scope(key_file: Path | None) -> str | None:
    """The scope of the key in ``key_file``; None (every scope) without one."""
    from stance.data.labelstore import scope_of

    if key_file is None:
        return None
    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except OSError as err:
        fail(f"--api-key-file {key_file}: {err.strerror}")
    if not key:
        fail(f"--api-key-file {key_file} is empty")
    return scope_of(key)


@app.command("export")
@cli_errors
def export(
    output: Annotated[Path, typer.Argument(help="JSONL file to write, or - for stdout")],
    db: DbOpt = None,
    api_key_file: KeyFileOpt = None,
) -> None:
    """Write the newest label of each item as JSONL that `stance evaluate` and `stance train` read.

    "Not a quote of this speaker" rows stay in the database and out of the file (they have no stance).
    """
    from stance.data.labelstore import write_records

    records = _store(db).latest(_scope(api_key_file))
    if str(output) == "-":
        for record in records:
            sys.stdout.write(json.dumps(record.to_example_row(), ensure_ascii=False) + "\n")
        return
    n = write_records(records, output)
    typer.echo(f"wrote {n} labels to {output}", err=True)


@app.command("import")
@cli_errors
def import_(
    input: Annotated[Path, typer.Argument(help="JSONL with text, topic, label (an export, any stance set)")],
    db: DbOpt = None,
    api_key_file: KeyFileOpt = None,
) -> None:
    """Add labels from a JSONL file, under the key of --api-key-file (else STANCE_API_KEY, else open).

    The whole file is checked first; a bad row stops the import with its line and nothing is added.
    """
    from stance.data.labelstore import read_records, scope_of

    records = list(read_records(input))
    scope = _scope(api_key_file) or scope_of(os.environ.get("STANCE_API_KEY"))
    ids = _store(db, must_exist=False).add(scope, records)
    typer.echo(f"imported {len(ids)} labels from {input}", err=True)


@app.command("stats")
@cli_errors
def stats(
    db: DbOpt = None,
    api_key_file: KeyFileOpt = None,
    format: Annotated[Format, typer.Option(help="table or json")] = Format.table,
) -> None:
    """How many labels, per label and topic, and how often the model agreed."""
    from dataclasses import asdict

    from stance.data.labelstore import USER_LABELS

    s = _store(db).stats(_scope(api_key_file))
    if format != Format.table:
        typer.echo(json.dumps(asdict(s), indent=2))
        return
    agreement = f"{s.model_agreement:.3f}" if s.model_agreement is not None else "n/a"
    typer.echo(f"{s.rows} rows, {s.items} labelled items, {s.scopes} key(s); model agreed on {agreement}")
    typer.echo(f"{'topic':40} " + " ".join(f"{label:>11}" for label in USER_LABELS))
    for topic, counts in sorted(s.per_topic.items()):
        typer.echo(f"{topic[:40]:40} " + " ".join(f"{counts.get(label, 0):>11}" for label in USER_LABELS))
    typer.echo(f"{'all':40} " + " ".join(f"{s.per_label.get(label, 0):>11}" for label in USER_LABELS))
