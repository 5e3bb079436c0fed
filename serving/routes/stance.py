"""``/v1/stance``: stance of (text, topic[, context]) items, micro-batched across requests."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.deps import ClientDep, StanceDep, check_context, check_text, within_budget
from serving.parsing import ParsedJsonRoute
from serving.render import json_response
from serving.schemas import StanceRequest, StanceResponse, stance_payload
from stance.analysis import apply_min_confidence
from stance.errors import InputTooLargeError
from stance.pairs import StancePair, check_pair

router = APIRouter(prefix="/v1", tags=["v1"], route_class=ParsedJsonRoute)

# a topic is a phrase ("the JCPOA"); 500 characters leaves room for a long one
MAX_TOPIC_CHARS = 500


@router.post("/stance", response_model=StanceResponse)
async def stance(body: StanceRequest, request: Request, service: StanceDep, client: ClientDep) -> Response:
    """Stance of each (text, topic[, context]) item, in input order.

    Every item is checked before any is queued (a text or context over its limit is a 413 that
    names it); an item the model cannot read fails this request alone, with a 422 that names it.
    """
    settings = service.settings
    if len(body.items) > settings.max_items:
        raise InputTooLargeError(f"{len(body.items)} items; limit {settings.max_items} per request")
    pairs = []
    for i, item in enumerate(body.items):
        check_text(item.text, settings.max_quote_chars, f"items[{i}].text")
        check_text(item.topic, MAX_TOPIC_CHARS, f"items[{i}].topic")
        check_context(item.context, settings.max_context_chars, f"items[{i}].context")
        pair = StancePair(item.text, item.topic, item.context)
        check_pair(pair, f"items[{i}]")
        pairs.append(pair)
    preds = await within_budget(request, service.predict(pairs, client=client), settings.request_timeout_s)
    preds = apply_min_confidence(preds, body.min_confidence)
    return await json_response(lambda: stance_payload(preds))
