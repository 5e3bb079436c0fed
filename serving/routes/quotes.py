"""``/v1/quotes``: direct quotations in an article, with speakers (no model needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.deps import ClientDep, StartedDep, check_text, within_budget
from serving.parsing import ParsedJsonRoute
from serving.render import json_response
from serving.schemas import QuotesRequest, QuotesResponse, quotes_payload

router = APIRouter(prefix="/v1", tags=["v1"], route_class=ParsedJsonRoute)


@router.post("/quotes", response_model=QuotesResponse)
async def quotes(body: QuotesRequest, request: Request, service: StartedDep, client: ClientDep) -> Response:
    """Direct quotations in an article, with speakers; extracted in a worker process."""
    settings = service.settings
    check_text(body.text, settings.max_text_chars, "text")
    found = await within_budget(
        request,
        service.text_job("quotes", body.text, body.kinds, client=client),
        settings.request_timeout_s + BUDGET_GRACE_S,
    )
    return await json_response(lambda: quotes_payload(found))


# the worker pool enforces the budget itself and says so; the outer guard only catches the rest
BUDGET_GRACE_S = 0.5
