"""The stance label set and the mapping from the many spellings datasets use."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("favor", "against", "none")
"""Canonical labels, in the id order new models are created with."""

UNCERTAIN = "uncertain"
"""Reported in place of a label whose probability is under the caller's ``min_confidence``
(off by default): never counted as favor, against or none in speaker summaries."""

_ALIASES = {
    "favor": "favor",
    "favour": "favor",
    "pro": "favor",
    "support": "favor",
    "agree": "favor",
    "for": "favor",
    "positive": "favor",
    "against": "against",
    "con": "against",
    "oppose": "against",
    "disagree": "against",
    "negative": "against",
    "none": "none",
    "neutral": "none",
    "neither": "none",
    "unrelated": "none",
    "discuss": "none",
}


def normalize_label(value: object) -> str:
    """Map a dataset's label spelling to one of :data:`LABELS`.

    Args:
        value: a label as found in a file ("FAVOR", "pro", "neutral", ...).

    Returns:
        "favor", "against" or "none".

    Raises:
        ValueError: the value is not a known stance label.

    Example:
        >>> normalize_label("FAVOUR")
        'favor'
    """
    key = str(value).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown stance label {value!r}; expected one of {', '.join(LABELS)} "
            f"(or an alias: {', '.join(sorted(_ALIASES))})"
        )
    return _ALIASES[key]
