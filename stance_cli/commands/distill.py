"""``stance distill TEACHER CONFIG``: a small student trained on a large teacher's probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.config import parse_overrides
from stance.errors import InputError
from stance_cli.commands.train import run_training
from stance_cli.errors import cli_errors


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
    if not (teacher / "model.safetensors").is_file():
        raise InputError(f"teacher {teacher} is not a model folder (train one with `make train-large`)")
    overrides = {**parse_overrides(ctx.args), "distill.teacher": str(teacher)}
    run_training(config, overrides, output, resume, no_eval)
