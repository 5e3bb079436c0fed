"""``stance evaluate MODEL DATA...``: score a model on labelled sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.options import Precision
from stance_cli.errors import cli_errors
from stance_cli.io import setup_logging
from stance_cli.options import AllowUnverified, BatchSize, Int8, ModelArg, PrecisionOpt, load_model

MAX_TOPIC_ROWS = 20


@cli_errors
def evaluate(
    model: ModelArg,
    data: Annotated[
        list[str],
        typer.Argument(help="name:split (vast:test_zeroshot_clean), a path, or labels: (your label store)"),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="folder for eval_results.json")
    ] = None,
    batch_size: BatchSize = 64,
    int8: Int8 = False,
    precision: PrecisionOpt = Precision.fp32,
    allow_unverified: AllowUnverified = False,
    topic_swap: Annotated[bool, typer.Option(help="also measure topic-swap sensitivity")] = False,
) -> None:
    """Score a model on labelled sets; prints a table and writes eval_results.json."""
    setup_logging()
    from training.evaluate import evaluate as run_eval
    from training.evaluate import write_eval_outputs

    clf = load_model(model, precision, int8, allow_unverified)
    results = run_eval(clf, data, batch_size=batch_size, topic_swap=topic_swap)
    typer.echo(f"{'data':38} {'n':>6} {'acc':>6} {'macroF1':>8} {'F_avg':>6} {'swap->none':>10}")
    for name, m in results.items():
        swap = m.get("topic_swap", {}).get("share_moved_to_none")
        typer.echo(
            f"{name:38} {m['n']:>6} {m['accuracy']:>6.3f} {m['macro_f1']:>8.3f} {m['f_avg']:>6.3f}"
            + (f" {swap:>10.3f}" if swap is not None else "")
        )
    _echo_confidence(results)
    for name, m in results.items():
        # a user's own labels cover a few topics: each gets its row (VAST's thousands do not)
        if 1 < len(m.get("per_topic", {})) <= MAX_TOPIC_ROWS:
            typer.echo(f"\n{name} per topic:\n{'topic':38} {'n':>6} {'acc':>6} {'macroF1':>8} {'F_avg':>6}")
            for topic, t in m["per_topic"].items():
                figures = f"{t['accuracy']:>6.3f} {t['macro_f1']:>8.3f} {t['f_avg']:>6.3f}"
                typer.echo(f"{topic[:38]:38} {t['n']:>6} {figures}")
    if output:
        typer.echo(f"wrote {write_eval_outputs(results, output)}")


def _echo_confidence(results: dict[str, dict]) -> None:
    """Calibration error before and after the model's temperature, and accuracy by coverage."""
    first = next(iter(results.values()), {})
    if "risk_coverage" not in first:
        return
    coverages = "".join(f" {'acc@' + format(r['coverage'], '.0%'):>8}" for r in first["risk_coverage"])
    typer.echo(f"\nconfidence (temperature {first['temperature']:.3f}; accuracy of the most confident share)")
    typer.echo(f"{'data':38} {'ECE':>6} {'ECE raw':>8} {'floor':>6}{coverages}")
    for name, m in results.items():
        accuracy = "".join(f" {r['accuracy']:>8.3f}" for r in m["risk_coverage"])
        eces = f"{m['ece']:>6.3f} {m['ece_uncalibrated']:>8.3f} {m['ece_floor']:>6.3f}"
        typer.echo(f"{name:38} {eces}{accuracy}")
    typer.echo("(floor: the ECE a perfectly calibrated model with these confidences shows on this many rows)")
