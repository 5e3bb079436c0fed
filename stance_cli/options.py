"""Options that several commands take, defined once as ``Annotated`` types.

Use them as parameter types: ``def cmd(model: ModelPath = DEFAULT_MODEL, precision: PrecisionOpt =
Precision.fp32, int8: Int8 = False, allow_unverified: AllowUnverified = False)`` and load the model
with :func:`load_model`, so every command spells, documents and applies them the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stance.options import Precision

DEFAULT_MODEL = Path("models/default")

ModelPath = Annotated[Path, typer.Option("--model", "-m", help="model folder")]
ModelArg = Annotated[Path, typer.Argument(help="model folder")]
PrecisionOpt = Annotated[
    Precision, typer.Option(help="fp32 (exact), bf16 (autocast) or auto (bf16 where the CPU has it)")
]
Int8 = Annotated[bool, typer.Option("--int8/--no-int8", help="int8-quantised linear layers")]
AllowUnverified = Annotated[
    bool,
    typer.Option(
        "--allow-unverified", help="load a model folder that has no checksums.json (trust its source)"
    ),
]
BatchSize = Annotated[int, typer.Option(min=1, help="examples per forward pass")]
MinConfidence = Annotated[
    float | None,
    typer.Option(
        "--min-confidence",
        min=0.0,
        max=1.0,
        help="report a stance whose probability is under this as 'uncertain' (not counted as "
        "favor or against in speaker summaries); default off",
    ),
]


def load_model(
    path: Path, precision: Precision = Precision.fp32, int8: bool = False, allow_unverified: bool = False
):
    """Load a stance model as the shared options say (imports torch only when called)."""
    from stance.model.classifier import StanceClassifier

    return StanceClassifier.from_pretrained(
        path, quantize="int8" if int8 else None, precision=precision, allow_unverified=allow_unverified
    )
