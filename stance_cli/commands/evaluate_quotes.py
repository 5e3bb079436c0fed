"""``stance evaluate-quotes``: score the quote splitter on PolNeAR, per kind and per rule."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from stance_cli.errors import cli_errors, fail
from stance_cli.options import Int8


@cli_errors
def evaluate_quotes(
    path: Path = typer.Argument(None, help="PolNeAR folder (default $STANCE_DATA_DIR/quotes/polnear)"),
    split: str = typer.Option("dev", help="dev, test or train"),
    output: Path = typer.Option(None, "--output", "-o", help="JSON file for the figures"),
    model: Path = typer.Option(
        None, "--model", "-m", help="attribution tagger folder to run beside the rules (default: rules only)"
    ),
    int8: Int8 = False,
) -> None:
    """Score the quote splitter on PolNeAR: direct quotes, reported speech, each rule, all attributions."""
    from stance.atomic import atomic_file
    from stance.settings import DataNotFoundError
    from training.quotes_eval import evaluate_quotes

    if split not in {"train", "dev", "test"}:
        fail(f"--split {split!r}; expected train, dev or test")
    tagger = None
    if model is not None:
        from stance.quotes.tagger import load_tagger

        tagger = load_tagger(model, quantize="int8" if int8 else None)
    try:
        result = evaluate_quotes(path, split, tagger=tagger, show_progress=True)
    except (FileNotFoundError, DataNotFoundError) as err:
        fail(str(err), 3)  # the PolNeAR folder is missing: exit 3, as for a missing model
    for key, value in result.items():
        if not isinstance(value, dict) and value is not None:
            typer.echo(f"{key:22} {value:.3f}" if isinstance(value, float) else f"{key:22} {value}")
    for section in ("rules", "indirect_rules"):
        if result.get(section):
            typer.echo(f"{section}: {'rule':18} {'quotes':>7} {'matched':>8} {'speaker precision':>18}")
            for name, row in result[section].items():
                typer.echo(
                    f"{'':{len(section) + 2}}{name:18} {row['quotes']:>7} {row['matched']:>8}"
                    f" {row['speaker_precision']:>18.3f}"
                )
    for section in ("all_attributions", "tagger_spans"):
        if result.get(section):
            typer.echo(
                f"{section}: {'role':8} {'gold':>6} {'pred':>6} {'exact P':>8} {'exact R':>8} "
                f"{'exact F1':>9} {'overlap F1':>11}"
            )
            for role in ("source", "cue", "content"):
                row = result[section][role]
                typer.echo(
                    f"{'':{len(section) + 2}}{role:8} {row['gold']:>6} {row['predicted']:>6} "
                    f"{row['exact_precision']:>8.3f} {row['exact_recall']:>8.3f} "
                    f"{row['exact_f1']:>9.3f} {row['overlap_f1']:>11.3f}"
                )
    if output:
        with atomic_file(output) as handle:
            json.dump(result, handle, indent=2)
        typer.echo(f"wrote {output}")
