"""Start-up and shutdown: text workers, the stance model (when there is one) and its batcher.

Without a model folder the service still starts: quotes work, stance answers 503 with how to get
a model, and the log says so in one paragraph. A folder that exists but is broken stops start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from serving.batcher import MicroBatcher
from serving.deps import Service
from serving.workers import TextWorkerPool
from stance.errors import MODEL_HOWTO, ModelNotFoundError
from stance.model.folder import read_metadata
from stance.pairs import StancePair, StancePrediction

logger = logging.getLogger(__name__)


def _load_model(service: Service) -> None:
    from stance.model.classifier import StanceClassifier

    settings = service.settings
    service.model = StanceClassifier.from_pretrained(
        settings.model_path,
        quantize="int8" if settings.int8 else None,
        num_threads=settings.num_threads or None,
        precision=settings.precision,
        allow_unverified=settings.allow_unverified,
    )
    service.info = read_metadata(settings.model_path)


def _start_batcher(service: Service) -> MicroBatcher:
    settings, clf, metrics = service.settings, service.model, service.metrics

    def predict(pairs: list[StancePair]) -> list[StancePrediction]:
        preds = clf.predict(pairs, batch_size=settings.max_batch_size)
        metrics.observe_predictions(p.label for p in preds)
        return preds

    return MicroBatcher(
        predict,
        settings.max_batch_size,
        settings.max_wait_ms,
        settings.max_queue,
        enabled=settings.batching,
        on_batch=metrics.observe_batch,
        check=clf.check_pairs,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the service's state, yield while it serves, then stop workers and batcher."""
    service: Service = app.state.service
    settings = service.settings
    if service.pool is None:
        service.pool = TextWorkerPool(
            settings.text_workers, settings.max_text_queue, niceness=settings.text_worker_nice
        )
    service.pool.on_outcome = service.metrics.observe_text_job
    await service.pool.start()
    if service.model is None:
        try:
            await run_in_threadpool(_load_model, service)
        except ModelNotFoundError as err:
            service.stance_unavailable = f"no stance model: {err}. {MODEL_HOWTO}"
            logger.warning(
                "Serving without a stance model: %s. /v1/quotes, /health, /ready and /v1/model work; "
                "/v1/stance and /v1/analyze answer 503 until a model is there and the service is "
                "restarted. %s",
                err,
                MODEL_HOWTO,
            )
    elif service.info is None:
        service.info = read_metadata(settings.model_path)
    if service.model is not None:
        service.batcher = _start_batcher(service)
        await service.batcher.start()
        logger.info("stance model %s loaded (%s)", settings.model_path, service.model.precision)
    service.started = True
    logger.info("ready: quotes%s", " and stance" if service.batcher else " only")
    try:
        yield
    finally:
        service.started = False
        if service.batcher is not None:
            await service.batcher.stop()
        await service.pool.stop()
