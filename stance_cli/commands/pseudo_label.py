"""``stance pseudo-label MODEL --output FILE.jsonl``: a model's confident labels on PolNeAR news quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.options import Precision
from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import BatchSize, ModelArg, PrecisionOpt

# the library's default, repeated so that `--help` loads no torch; a test pins the two together
DEFAULT_MIN_CONFIDENCE = 0.9


@cli_errors
def pseudo_label(
    model: ModelArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="the JSONL file to write (training reads it: data.extra)")
    ],
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence",
            help="keep a pair whose top calibrated probability is at least this, in (0, 1)",
        ),
    ] = DEFAULT_MIN_CONFIDENCE,
    limit: Annotated[
        int | None, typer.Option(help="label only the first N pairs (default: every pair)")
    ] = None,
    seed: Annotated[int, typer.Option(help="article order and each quote's unrelated headline")] = 42,
    polnear: Annotated[
        Path | None,
        typer.Option(help="the PolNeAR folder (default: $STANCE_DATA_DIR/quotes/polnear)"),
    ] = None,
    batch_size: BatchSize = 64,
    precision: PrecisionOpt = Precision.fp32,
) -> None:
    """Label the quotes found in PolNeAR's train articles (each with its own headline and an
    unrelated one) with MODEL, and write the pairs it is confident about as training rows.

    Rows: text, topic, label, context, confidence, source "pseudo". Train on them with
    `stance train CONFIG --data.extra FILE.jsonl` (configs/screen_selftrain.yaml names one).
    """
    setup_logging()
    from training.pseudo import pseudo_label as run

    report = run(
        model,
        output,
        min_confidence=min_confidence,
        limit=limit,
        seed=seed,
        polnear=polnear,
        batch_size=batch_size,
        precision=precision,
    )
    calibration = f"temperature {report.temperature:.3f}" if report.calibrated else "not calibrated"
    typer.echo(f"labelled {report.pairs} news quote pairs with {report.model} ({calibration})")
    for label, kept in report.kept_by_label.items():
        typer.echo(f"  {label}: kept {kept} of {report.predicted_by_label[label]} predicted")
    typer.echo(
        f"kept {report.kept} of {report.pairs} ({100 * report.kept_share:.1f} %) at confidence "
        f">= {report.min_confidence:g}"
    )
    typer.echo(f"wrote {report.output}")
