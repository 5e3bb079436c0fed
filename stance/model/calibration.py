"""Temperature scaling: probabilities a reader can take at face value.

A fine-tuned classifier is usually overconfident. Dividing its logits by one temperature ``T``
fitted on held-out rows (Guo et al., On Calibration of Modern Neural Networks, ICML 2017) keeps
every label as it was (the arg-max does not move) and makes the top probability track accuracy.
The temperature lives in the model folder as ``calibration.json``, covered by ``checksums.json``;
:meth:`stance.model.classifier.StanceClassifier.predict_proba` applies it, so every probability the API and
the CLI return is calibrated.

Example:
    >>> import torch
    >>> logits = torch.tensor([[4.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    >>> round(fit_temperature(logits, torch.tensor([0, 1])), 1) > 1.0   # right half the time
    True
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from stance.errors import ModelLoadError
from stance.model.folder import CALIBRATION

logger = logging.getLogger(__name__)

# Search range for T: below 0.05 or above 20 the model's scores carry no usable ranking anyway.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0
# Golden-section steps on 1/T: the interval shrinks by 0.618 per step, so 80 steps pin T far
# below the precision it is reported with.
_SEARCH_STEPS = 80


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it did on the rows it was fitted on.

    Attributes:
        temperature: logits are divided by this before the softmax (1.0 changes nothing).
        fitted_on: which rows (``dev split of resolved_config.yaml``, ``gwsd_desmog:train``).
        n: how many rows.
        nll_before, nll_after: mean negative log-likelihood of the gold label.
        ece_before, ece_after: expected calibration error (:func:`stance.metrics.expected_calibration_error`).
    """

    temperature: float
    fitted_on: str
    n: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict:
        return asdict(self)


def nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    log_probs = torch.log_softmax(logits.double() / temperature, dim=-1)
    return float(-log_probs[torch.arange(len(labels)), labels].mean())


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature that minimises the NLL of ``labels`` (golden-section search on 1/T).

    The NLL is convex in 1/T, so the search finds its one minimum in
    [:data:`MIN_TEMPERATURE`, :data:`MAX_TEMPERATURE`].

    Args:
        logits: (n, labels) scores, or log-probabilities (the softmax ignores a shift per row).
        labels: (n,) gold label indices.

    Raises:
        ValueError: no rows, or shapes that do not match.
    """
    if logits.ndim != 2 or len(logits) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"need (n, k) logits and n labels with n > 0; got {tuple(logits.shape)} and {len(labels)}"
        )
    labels = labels.long()
    low, high = 1 / MAX_TEMPERATURE, 1 / MIN_TEMPERATURE
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(logits, labels, 1 / a), nll(logits, labels, 1 / b)
    for _ in range(_SEARCH_STEPS):
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(logits, labels, 1 / a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(logits, labels, 1 / b)
    return 1 / ((low + high) / 2)


def calibrate_logits(logits: torch.Tensor, labels: torch.Tensor, fitted_on: str) -> Calibration:
    """Fit a temperature on (logits, labels) and measure NLL and ECE before and after."""
    from stance.metrics import expected_calibration_error

    temperature = fit_temperature(logits, labels)
    if not MIN_TEMPERATURE * 1.01 < temperature < MAX_TEMPERATURE * 0.99:
        # at the edge of the search: scores that barely depend on the label (an untrained model)
        logger.warning("temperature %.3f is at the edge of the search range; check the model", temperature)

    def ece(t: float) -> float:
        probs = torch.softmax(logits.double() / t, dim=-1)
        confidence, predicted = probs.max(-1)
        return expected_calibration_error(confidence.tolist(), (predicted == labels).tolist())

    return Calibration(
        temperature=round(temperature, 4),
        fitted_on=fitted_on,
        n=len(labels),
        nll_before=round(nll(logits, labels), 4),
        nll_after=round(nll(logits, labels, temperature), 4),
        ece_before=round(ece(1.0), 4),
        ece_after=round(ece(temperature), 4),
    )


def uncalibrated(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """The probabilities before the temperature: softmax(z / T) ** T is proportional to exp(z)."""
    raw = probs.double().clamp_min(1e-300) ** temperature
    return (raw / raw.sum(-1, keepdim=True)).to(probs.dtype)


def read_calibration(folder: str | Path) -> Calibration | None:
    """The folder's ``calibration.json``, or None when it has none.

    Raises:
        ModelLoadError: the file is not a calibration record or its temperature is out of range.
    """
    path = Path(folder) / CALIBRATION
    if not path.is_file():
        return None
    try:
        calibration = Calibration(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as err:
        raise ModelLoadError(f"{path}: not a calibration record ({err})") from None
    if not MIN_TEMPERATURE <= calibration.temperature <= MAX_TEMPERATURE:
        raise ModelLoadError(
            f"{path}: temperature {calibration.temperature} is outside {MIN_TEMPERATURE} to {MAX_TEMPERATURE}"
        )
    return calibration


def write_calibration(folder: str | Path, calibration: Calibration) -> None:
    """Write ``calibration.json`` into a folder being assembled (callers handle atomicity)."""
    (Path(folder) / CALIBRATION).write_text(json.dumps(calibration.to_dict(), indent=2))
