"""``stance calibrate MODEL [--data name:split]``: fit a temperature and store it in the model folder."""

from __future__ import annotations

from typing import Annotated

import typer

from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import AllowUnverified, BatchSize, ModelArg


@cli_errors
def calibrate(
    model: ModelArg,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help="labelled rows the model was not trained on: name:split or a path (repeatable); "
            "default: the model's own dev split, rebuilt from its resolved_config.yaml",
        ),
    ] = None,
    batch_size: BatchSize = 64,
    allow_unverified: AllowUnverified = False,
) -> None:
    """Fit a temperature on held-out rows so the model's probabilities mean what they say.

    Writes calibration.json (covered by checksums.json) into the model folder; every probability
    the API and the CLI return afterwards is computed with it. Labels do not change.
    """
    setup_logging()
    from training.evaluate import calibrate_model

    c = calibrate_model(model, data, batch_size=batch_size, allow_unverified=allow_unverified)
    typer.echo(
        f"temperature {c.temperature:.3f} fitted on {c.fitted_on}: "
        f"NLL {c.nll_before:.3f} -> {c.nll_after:.3f}, expected calibration error "
        f"{c.ece_before:.3f} -> {c.ece_after:.3f}"
    )
    typer.echo(f"wrote {model / 'calibration.json'}")
