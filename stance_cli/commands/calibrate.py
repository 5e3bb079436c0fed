"""``stance calibrate MODEL [--data name:split] [--max-length N]``: fit a temperature, store it."""

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
    max_length: Annotated[
        int | None,
        typer.Option(
            "--max-length",
            help="tokens the model reads from now on (8 to 512), the temperature fitted at that "
            "length; default: the folder's own",
        ),
    ] = None,
) -> None:
    """Fit a temperature on held-out rows so the model's probabilities mean what they say.

    Writes calibration.json (covered by checksums.json) into the model folder; every probability
    the API and the CLI return afterwards is computed with it. Labels do not change, unless
    --max-length lets the model read more (or less) of each text than before.
    """
    setup_logging()
    from training.evaluate import calibrate_model

    c = calibrate_model(
        model, data, batch_size=batch_size, allow_unverified=allow_unverified, max_length=max_length
    )
    typer.echo(
        f"temperature {c.temperature:.3f} fitted on {c.fitted_on}: "
        f"NLL {c.nll_before:.3f} -> {c.nll_after:.3f}, expected calibration error "
        f"{c.ece_before:.3f} -> {c.ece_after:.3f}"
    )
    typer.echo(f"wrote {model / 'calibration.json'}")
