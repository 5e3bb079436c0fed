"""``/v1/stance``: stance of (text, topic[, context]) items, micro-batched across requests."""

from __future__ import annotations

from fastapi import APIRouter, Request

from serving.deps import StanceDep, check_text, within_budget
from serving.schemas import StanceRequest, StanceResponse
from stance.errors import InputTooLargeError

router = APIRouter(prefix="/v1", tags=["v1"])

# a topic is a phrase ("the JCPOA"); 500 characters leaves room for a long one
MAX_TOPIC_CHARS = 500


@router.post("/stance", response_model=StanceResponse)
async def stance(body: StanceRequest, request: Request, service: StanceDep) -> dict:
    """Stance of each (text, topic[, context]) item, in input order."""
    settings = service.settings
    if len(body.items) > settings.max_items:
        raise InputTooLargeError(f"{len(body.items)} items; limit {settings.max_items} per request")
    for i, item in enumerate(body.items):
        check_text(item.text, settings.max_quote_chars, f"items[{i}].text")
        check_text(item.topic, MAX_TOPIC_CHARS, f"items[{i}].topic")
    items = [(i.text, i.topic, i.context) for i in body.items]
    preds = await within_budget(request, service.predict(items), settings.request_timeout_s)
    return {"results": [p.to_dict() for p in preds]}
