"""``/v1/analyze``: quotes with speakers and their stance per topic, plus per-speaker summaries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request

from serving.deps import Service, StanceDep, check_text, within_budget
from serving.routes.quotes import BUDGET_GRACE_S
from serving.routes.stance import MAX_TOPIC_CHARS
from serving.schemas import AnalyzeRequest, AnalyzeResponse
from stance.analysis import assemble, stance_pairs
from stance.errors import InputTooLargeError

router = APIRouter(prefix="/v1", tags=["v1"])


async def _analyze(service: Service, text: str, topics: list[str], kinds: Sequence[str] | None) -> dict:
    found = await service.text_job("quotes_with_context", text, kinds)
    texts, pair_topics, contexts = stance_pairs(text, found, topics)
    if len(texts) > service.settings.max_queue:
        raise InputTooLargeError(f"{len(texts)} quote x topic pairs; limit {service.settings.max_queue}")
    preds = await service.predict(list(zip(texts, pair_topics, contexts, strict=True))) if texts else []
    return assemble(found, topics, preds).to_dict()


@router.post("/analyze", response_model=AnalyzeResponse)
async def analyze_article(body: AnalyzeRequest, request: Request, service: StanceDep) -> dict:
    """Quotes with speakers and a stance per topic, plus a summary per speaker and topic."""
    settings = service.settings
    check_text(body.text, settings.max_text_chars, "text")
    if len(body.topics) > settings.max_topics:
        raise InputTooLargeError(f"{len(body.topics)} topics; limit {settings.max_topics}")
    for i, topic in enumerate(body.topics):
        check_text(topic, MAX_TOPIC_CHARS, f"topics[{i}]")
    return await within_budget(
        request,
        _analyze(service, body.text, body.topics, body.kinds),
        settings.request_timeout_s + BUDGET_GRACE_S,
    )
