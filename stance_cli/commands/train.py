"""``stance train CONFIG [--section.key value ...]``: fine-tune a stance model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from stance.errors import ConfigError
from stance_cli.errors import INTERRUPTED, cli_errors, fail
from stance_cli.io import setup_logging

# dotted overrides (--train.lr 3e-5) are not declared options, so Typer must pass them through
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def parse_overrides(args: list[str]) -> dict[str, str]:
    """``["--train.lr", "3e-5", "--model.base=x"]`` -> ``{"train.lr": "3e-5", "model.base": "x"}``.

    Raises:
        ConfigError: an argument that is not ``--section.key``, or one without a value.
    """
    overrides: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --train.lr 3e-5")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            raise ConfigError(f"override {arg} has no value")
        overrides[key] = value
    return overrides


@cli_errors
def train(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="YAML config: a path or a packaged name (quick)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="model folder")] = Path("models/default"),
    resume: Annotated[bool, typer.Option(help="continue from the last complete checkpoint")] = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the evaluation sets")] = False,
) -> None:
    """Fine-tune a stance model. Extra options override the config: --train.lr 3e-5."""
    run_training(config, parse_overrides(ctx.args), output, resume, no_eval)


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
