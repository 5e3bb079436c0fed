"""``stance adapt MODEL LABELS --output DIR``: fine-tune a model on your own labels, in minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance_cli.errors import INTERRUPTED, cli_errors, fail
from stance_cli.io import setup_logging
from stance_cli.options import ModelArg


@cli_errors
def adapt(
    model: ModelArg,
    labels: Annotated[
        str, typer.Argument(help="labels: (your label store), labels:PATH, or a JSONL/CSV file")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="the adapted model folder")],
    epochs: Annotated[float, typer.Option(min=0.1, help="passes over labels and replay")] = 3.0,
    lr: Annotated[float, typer.Option(min=1e-7, max=1e-2, help="learning rate")] = 3e-5,
    replay: Annotated[
        float, typer.Option(min=0, help="original training rows replayed per (weighted) label")
    ] = 2.0,
    folds: Annotated[int, typer.Option(min=2, help="folds the labels are split into")] = 5,
    held_out_folds: Annotated[
        int, typer.Option(min=0, help="folds held out for the before/after (each costs one more run)")
    ] = 1,
    dev_examples: Annotated[int, typer.Option(min=0, help="dev rows scored before and after")] = 500,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
) -> None:
    """Fine-tune MODEL on your labels, replaying its own training data; report before/after."""
    setup_logging()
    from training.adapt import AdaptOptions
    from training.adapt import adapt as run_adapt

    options = AdaptOptions(
        epochs=epochs,
        lr=lr,
        replay=replay,
        folds=folds,
        held_out_folds=held_out_folds,
        dev_examples=dev_examples,
        seed=seed,
    )
    try:
        report = run_adapt(model, labels, output, options)
    except KeyboardInterrupt:
        fail(f"interrupted; {output} is unchanged", INTERRUPTED)
    typer.echo(
        f"adapted {model} on {report['labels']} labels ({len(report['topics'])} topics, "
        f"{report['replay']} replayed rows) in {report['wall_seconds']:.0f} s -> {output}"
    )
    typer.echo(f"{'data':34} {'n':>5} {'macroF1 before':>15} {'after':>6} {'F_avg before':>13} {'after':>6}")
    for key, title in (("held_out", "your labels (held-out folds)"), ("dev", "the model's dev split")):
        if key in report:
            b, a = report[key]["before"], report[key]["after"]
            typer.echo(
                f"{title:34} {report[key]['n']:>5} {b['macro_f1']:>15.3f} {a['macro_f1']:>6.3f} "
                f"{b['f_avg']:>13.3f} {a['f_avg']:>6.3f}"
            )
