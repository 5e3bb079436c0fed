"""``/v1/model``: which model answers, how it was trained and how it scored."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from serving.deps import StartedDep
from serving.schemas import ModelInfo

router = APIRouter(prefix="/v1", tags=["v1"])


@router.get("/model", response_model=ModelInfo)
async def model_info(service: StartedDep) -> dict:
    """Model name, base encoder, labels, training data and evaluation figures; ``loaded: false``
    and how to get a model when the service runs without one."""
    if service.model is None or service.info is None:
        return {"loaded": False, "message": service.stance_unavailable}
    clf = service.model
    return {
        "loaded": True,
        **asdict(service.info),
        "labels": clf.labels,
        "max_length": clf.max_length,
        "quantized": clf.quantized,
        "precision": clf.precision,
    }
