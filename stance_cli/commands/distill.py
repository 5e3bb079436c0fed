"""``stance distill TEACHER CONFIG``: a small student trained on a large teacher's probabilities."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from stance.errors import InputError
from stance_cli.commands.train import CONTEXT_SETTINGS, parse_overrides
from stance_cli.errors import INTERRUPTED, cli_errors, fail
from stance_cli.io import setup_logging

__all__ = ["CONTEXT_SETTINGS", "distill"]


@cli_errors
def distill(
    ctx: typer.Context,
    teacher: Annotated[Path, typer.Argument(help="the teacher's model folder, e.g. models/large")],
    config: Annotated[Path, typer.Argument(help="the student's config: a path or a packaged name (default)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="model folder")] = Path("models/default"),
    resume: Annotated[bool, typer.Option(help="continue from the last complete checkpoint")] = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the evaluation sets")] = False,
) -> None:
    """Train a student on a teacher's probabilities (the config's distill section; teacher set here)."""
    setup_logging()
    from stance.config import load_config
    from training.train import train as run_train

    if not (teacher / "model.safetensors").is_file():
        raise InputError(f"teacher {teacher} is not a model folder (train one with `make train-large`)")
    cfg = load_config(config, {**parse_overrides(ctx.args), "distill.teacher": str(teacher)})
    try:
        run_train(cfg, output, resume=resume, evaluate_after=not no_eval)
    except KeyboardInterrupt:
        fail(f"interrupted; {output} is unchanged (resume with --resume)", INTERRUPTED)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"model written to {output}")
