"""``/v1/analyze``: quotes with speakers and their stance per topic, plus per-speaker summaries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from serving.deps import ClientDep, Service, StanceDep, check_text, within_budget
from serving.parsing import ParsedJsonRoute
from serving.render import json_response
from serving.routes.quotes import BUDGET_GRACE_S
from serving.routes.stance import MAX_TOPIC_CHARS
from serving.schemas import AnalyzeRequest, AnalyzeResponse, analysis_payload
from stance.analysis import Analysis, assemble, stance_pairs
from stance.errors import InputTooLargeError

router = APIRouter(prefix="/v1", tags=["v1"], route_class=ParsedJsonRoute)


async def _analyze(
    service: Service,
    client: str,
    text: str,
    topics: list[str],
    kinds: Sequence[str] | None,
    min_confidence: float | None,
) -> Analysis:
    found = await service.text_job("quotes_with_context", text, kinds, client=client)
    pairs = stance_pairs(text, found, topics)
    if len(pairs) > service.settings.max_queue:
        raise InputTooLargeError(f"{len(pairs)} quote x topic pairs; limit {service.settings.max_queue}")
    n = len(topics)

    def name(i: int) -> str:
        return f"quotes[{i // n}] x topics[{i % n}]"

    preds = await service.predict(pairs, name, client) if pairs else []
    return assemble(found, topics, preds, min_confidence)


@router.post("/analyze", response_model=AnalyzeResponse)
async def analyze_article(
    body: AnalyzeRequest, request: Request, service: StanceDep, client: ClientDep
) -> Response:
    """Quotes with speakers and a stance per topic, plus a summary per speaker and topic."""
    settings = service.settings
    check_text(body.text, settings.max_text_chars, "text")
    if len(body.topics) > settings.max_topics:
        raise InputTooLargeError(f"{len(body.topics)} topics; limit {settings.max_topics}")
    for i, topic in enumerate(body.topics):
        check_text(topic, MAX_TOPIC_CHARS, f"topics[{i}]")
    analysis = await within_budget(
        request,
        _analyze(service, client, body.text, body.topics, body.kinds, body.min_confidence),
        settings.request_timeout_s + BUDGET_GRACE_S,
    )
    return await json_response(lambda: analysis_payload(analysis))
