"""quote-stance: who said what in a news article, and where they stand on a topic.

The public surface::

    from stance import extract_quotes, StanceClassifier, analyze
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stance.pairs import StancePair, StancePrediction
from stance.quotes import Quote, extract_quotes

__all__ = [
    "Quote",
    "extract_quotes",
    "StanceClassifier",
    "StancePair",
    "StancePrediction",
    "analyze",
    "Analysis",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from stance.analysis import Analysis, analyze
    from stance.model.classifier import StanceClassifier


def __getattr__(name: str):
    # torch and transformers load only when the model is used, so `stance quotes` starts fast
    if name == "StanceClassifier":
        from stance.model import classifier

        return getattr(classifier, name)
    if name in {"analyze", "Analysis"}:
        from stance import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
