"""One pydantic model per request and response; unknown fields are rejected.

Length limits here are the defaults; the app checks the configured limits and answers 413.
Response models mirror the core dataclasses: :class:`QuoteOut` is built from ``Quote`` itself
(:func:`model_of`), and ``StancePrediction`` and its ``TopicStance``, ``SpeakerSummary``, whose
score maps are objects here, are pinned to theirs by ``tests/test_shape.py``. The ``*_payload``
functions turn core results into the response models' JSON without a second validation pass (the
same test pins their output to the models).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from stance.analysis import Analysis
from stance.pairs import StancePrediction
from stance.quotes import Kind, Quote

# the core's closed set of kinds; tests/test_shape.py pins the API types to the core types
QuoteKind = Kind

NonEmpty = Field(min_length=1)


# a stance under this probability is reported as "uncertain"; None (the default) reports every label
MinConfidence = Annotated[
    float | None,
    Field(
        ge=0.0,
        le=1.0,
        description="report a stance whose probability is under this as 'uncertain'; default off",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def model_of(
    core: type,
    name: str,
    doc: str | None = None,
    first: Sequence[str] = (),
    required: Mapping[str, Any] | None = None,
) -> type[Strict]:
    """A response model with the fields of the core dataclass ``core``: names, types and defaults.

    Args:
        core: the dataclass the API returns as JSON.
        name: the model's name (as OpenAPI shows it).
        doc: its description.
        first: fields to put first; the others follow in ``core``'s order (the JSON's key order).
        required: fields the API always fills, with their type there (a stored row's ``id``).

    Example:
        >>> list(model_of(Quote, "QuoteOut").model_fields)[:3]
        ['text', 'start', 'end']
    """
    hints = typing.get_type_hints(core)
    fields = {f.name: f for f in dataclasses.fields(core)}
    required = dict(required or {})
    spec: dict[str, Any] = {}
    for field_name in [*first, *(n for n in fields if n not in first)]:
        default = fields[field_name].default
        if field_name in required:
            spec[field_name] = (required[field_name], ...)
        else:
            spec[field_name] = (hints[field_name], ... if default is dataclasses.MISSING else default)
    return create_model(name, __base__=Strict, __doc__=doc, **spec)


class QuotesRequest(Strict):
    text: str = Field(min_length=1, max_length=1_000_000, description="article text")
    kinds: list[QuoteKind] | None = Field(
        default=None, min_length=1, max_length=3, description="kinds to return; default direct, mixed"
    )


# built from Quote, so a field added there is answered here; a type checker cannot see its fields,
# hence the ignores where it is used as a type
QuoteOut = model_of(Quote, "QuoteOut")


class QuotesResponse(Strict):
    quotes: list[QuoteOut]  # type: ignore[valid-type]


class StanceItem(Strict):
    text: str = Field(min_length=1, max_length=100_000)
    topic: str = Field(min_length=1, max_length=500)
    context: str | None = Field(default=None, max_length=100_000)


class StanceRequest(Strict):
    items: list[StanceItem] = Field(min_length=1, max_length=10_000)
    min_confidence: MinConfidence = None


class Scores(Strict):
    favor: float
    against: float
    none: float


class StanceResult(Strict):
    label: str
    score: float
    scores: Scores


class StanceResponse(Strict):
    results: list[StanceResult]


class AnalyzeRequest(Strict):
    text: str = Field(min_length=1, max_length=1_000_000)
    topics: list[str] = Field(min_length=1, max_length=100)
    kinds: list[QuoteKind] | None = Field(
        default=None, min_length=1, max_length=3, description="kinds to label; default all"
    )
    min_confidence: MinConfidence = None


class TopicStanceOut(StanceResult):
    topic: str


class AnalyzedQuote(QuoteOut):  # type: ignore[valid-type, misc]
    stances: list[TopicStanceOut]


class SpeakerOut(Strict):
    speaker: str
    topic: str
    quotes: int
    kinds: dict[QuoteKind, int]
    stance: str
    mean_scores: Scores


class AnalyzeResponse(Strict):
    quotes: list[AnalyzedQuote]
    speakers: list[SpeakerOut]


class ModelInfo(Strict):
    loaded: bool
    message: str | None = Field(default=None, description="how to get a model, when none is loaded")
    name: str | None = None
    path: str | None = None
    base_encoder: str | None = None
    labels: list[str] | None = None
    max_length: int | None = None
    quantized: bool | None = None
    precision: str | None = None
    training_data: list[str] | None = None
    evaluation: dict[str, dict[str, float]] | None = None


class Health(Strict):
    status: str


class Capabilities(Strict):
    quotes: bool
    stance: bool


class Readiness(Strict):
    status: str
    capabilities: Capabilities
    model: str | None
    stance_unavailable: str | None = Field(description="why stance is not ready and how to fix it")
    quote_attribution: str = Field(
        "rules only", description="rules + the attribution tagger folder in use, or rules only and why"
    )


class ErrorBody(Strict):
    code: str
    message: str
    details: list | None = None


class ErrorResponse(Strict):
    error: ErrorBody


def _scores(scores: dict[str, float]) -> dict[str, float]:
    return {label: scores[label] for label in Scores.model_fields}


def prediction_payload(prediction: StancePrediction) -> dict:
    """A :class:`StanceResult` as JSON data, fields in the model's order."""
    return {"label": prediction.label, "score": prediction.score, "scores": _scores(prediction.scores)}


def quotes_payload(quotes: Sequence[Quote]) -> dict:
    """A :class:`QuotesResponse` as JSON data."""
    return {"quotes": [q.to_dict() for q in quotes]}


def stance_payload(predictions: Sequence[StancePrediction]) -> dict:
    """A :class:`StanceResponse` as JSON data."""
    return {"results": [prediction_payload(p) for p in predictions]}


def analysis_payload(analysis: Analysis) -> dict:
    """An :class:`AnalyzeResponse` as JSON data (stances: the prediction's fields, then the topic)."""
    return {
        "quotes": [
            {
                **qa.quote.to_dict(),
                "stances": [{**prediction_payload(s), "topic": s.topic} for s in qa.stances],
            }
            for qa in analysis.quotes
        ],
        "speakers": [{**asdict(s), "mean_scores": _scores(s.mean_scores)} for s in analysis.speakers],
    }
