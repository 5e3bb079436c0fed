"""``stance train CONFIG [--section.key value ...]``: fine-tune a stance model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from stance.config import parse_overrides
from stance_cli.errors import INTERRUPTED, cli_errors, fail
from stance_cli.io import setup_logging

# dotted overrides (--train.lr 3e-5) are not declared options, so Typer must pass them through
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


@cli_errors
def train(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="YAML config: a path or a packaged name (quick)")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="model folder (default models/default, or models/attribution)"),
    ] = None,
    resume: Annotated[bool, typer.Option(help="continue from the last complete checkpoint")] = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the evaluation sets")] = False,
) -> None:
    """Fine-tune a stance model (or, for a config with task: attribution, the attribution tagger).

    Extra options override the config: --train.lr 3e-5.
    """
    from training.attribution import is_attribution_config

    if is_attribution_config(config):
        output = output or Path("models/attribution")
        run_attribution_training(config, parse_overrides(ctx.args), output, resume, no_eval)
        return
    run_training(config, parse_overrides(ctx.args), output or Path("models/default"), resume, no_eval)


def run_attribution_training(
    config: Path, overrides: dict[str, str], output: Path, resume: bool, no_eval: bool
) -> None:
    """Train the attribution tagger (``task: attribution`` configs) into ``output``."""
    setup_logging()
    from training.attribution import load_attribution_config, train_attribution

    cfg = load_attribution_config(config, overrides)
    try:
        train_attribution(cfg, output, resume=resume, evaluate_after=not no_eval)
    except KeyboardInterrupt:
        fail(f"interrupted; {output} is unchanged (resume with --resume)", INTERRUPTED)
    typer.echo(f"tagger written to {output}")


def run_training(config: Path, overrides: dict[str, str], output: Path, resume: bool, no_eval: bool) -> None:
    """Load the config with its overrides and train into ``output``; shared by train and distill."""
    setup_logging()
    from stance.config import load_config
    from training.train import train as run_train

    cfg = load_config(config, overrides)
    try:
        run_train(cfg, output, resume=resume, evaluate_after=not no_eval)
    except KeyboardInterrupt:
        fail(f"interrupted; {output} is unchanged (resume with --resume)", INTERRUPTED)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"model written to {output}")
