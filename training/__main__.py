"""``python -m training train CONFIG [--output DIR] [--resume] [--no-eval] [--section.key value ...]``.

The training entry point without the command line package (training sits below it), so it runs
unchanged under ``torchrun -m training train``. ``stance train`` makes the same calls (a config with
``task: attribution`` trains the attribution tagger, into ``models/attribution`` by default); errors here
print ``error: MESSAGE`` and exit 1 (the command line's finer exit codes live in ``stance_cli``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from stance.config import load_config, parse_overrides
from stance.errors import StanceError


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, train, and return the exit code (1 for a core error)."""
    parser = argparse.ArgumentParser(prog="python -m training", description="Fine-tune a stance model.")
    parser.add_argument("command", choices=["train"], help="what to run")
    parser.add_argument("config", type=Path, help="YAML config: a path or a packaged name (quick)")
    parser.add_argument(
        "--output", "-o", type=Path, default=None, help="model folder (models/default, or models/attribution)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last complete checkpoint")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation sets")
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from training.attribution import is_attribution_config, load_attribution_config, train_attribution
    from training.train import train

    try:
        if is_attribution_config(args.config):
            args.output = args.output or Path("models/attribution")
            tagger_config = load_attribution_config(args.config, parse_overrides(extra))
            train_attribution(tagger_config, args.output, resume=args.resume, evaluate_after=not args.no_eval)
        else:
            args.output = args.output or Path("models/default")
            config = load_config(args.config, parse_overrides(extra))
            train(config, args.output, resume=args.resume, evaluate_after=not args.no_eval)
    except StanceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        _leave_process_group()
    if os.environ.get("RANK", "0") == "0":
        print(f"model written to {args.output}")
    return 0


def _leave_process_group() -> None:
    """Under torchrun the Trainer joins a process group; leave it before the interpreter exits, or
    a rank can abort in the group's destructor ("terminate called without an active exception")
    after its work is done, and torchrun reports the run failed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
