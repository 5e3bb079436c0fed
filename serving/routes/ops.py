"""Liveness, readiness and Prometheus metrics; never behind the API key or the concurrency limit."""

from __future__ import annotations

from fastapi import APIRouter, Response

from serving.deps import ServiceDep
from serving.errors import error_response
from serving.schemas import Health, Readiness
from stance.quotes.tagger import tagger_status

router = APIRouter(tags=["ops"])


@router.get("/health", response_model=Health)
async def health() -> dict:
    """The process is alive (answers even while every text worker is busy)."""
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, responses={503: {"description": "still starting"}})
async def ready(service: ServiceDep) -> Response | dict:
    """Which capabilities are ready: 200 once started (quotes always; stance with a model), else 503."""
    if not service.started:
        return error_response(503, "not_ready", "the service is still starting", retry_after_s=5)
    return {
        "status": "ready",
        "capabilities": {"quotes": True, "stance": service.batcher is not None},
        "model": service.info.name if service.info else None,
        "stance_unavailable": service.stance_unavailable,
        "quote_attribution": tagger_status(),
    }


@router.get("/metrics")
async def prometheus(service: ServiceDep) -> Response:
    """Prometheus metrics: requests, latency, batches, predictions per label, text jobs by outcome."""
    body, content_type = service.metrics.render()
    return Response(body, media_type=content_type)
