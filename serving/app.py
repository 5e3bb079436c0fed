"""The HTTP service: quotes, stance, article analysis, model info, health and metrics.

Run it with ``stance serve`` (or ``make serve``); build it in tests with :func:`create_app`.
Layout (full-stack-fastapi-template style): ``routes/`` one router per resource, ``deps.py`` the
state and ``Annotated`` dependencies, ``errors.py`` the error contract, ``middleware.py`` what
runs before FastAPI parses anything, ``lifespan.py`` start-up and shutdown, ``workers.py`` the
text worker processes.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from serving import errors
from serving.deps import Service
from serving.lifespan import lifespan
from serving.metrics import Metrics
from serving.middleware import (
    ApiKeyMiddleware,
    BodyGuardMiddleware,
    ConcurrencyLimitMiddleware,
    MetricsMiddleware,
)
from serving.page import page_router
from serving.parsing import json_body_routes
from serving.routes import ROUTERS
from serving.schemas import ErrorResponse
from serving.settings import ServiceSettings
from serving.workers import TextWorkerPool

logger = logging.getLogger(__name__)

ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorResponse} for status in (401, 408, 413, 422, 429, 503)
}


def create_app(
    settings: ServiceSettings | None = None, model=None, pool: TextWorkerPool | None = None
) -> FastAPI:
    """Build the app.

    Args:
        settings: defaults to :class:`ServiceSettings` from the environment.
        model: a loaded ``StanceClassifier``; skips loading ``settings.model_path``.
        pool: a text worker pool (tests pass one with their own tasks); default: built at start-up.
    """
    settings = settings or ServiceSettings()
    metrics = Metrics()
    app = FastAPI(
        title="quote-stance",
        version="0.1.0",
        description="Who said what in a news article, and where they stand on a topic.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.service = Service(settings=settings, metrics=metrics, model=model, pool=pool)
    routers = [*ROUTERS, page_router(settings)]
    for router in routers:
        app.include_router(router)
    errors.install(app)
    # added innermost first: metrics see everything, the key is checked before the body is read,
    # only a route that takes a JSON body has its body read and checked, and a concurrency slot
    # is taken only once the whole body is in (a slow body holds none)
    app.add_middleware(
        ConcurrencyLimitMiddleware, limit=settings.max_concurrency, retry_after_s=settings.retry_after_s
    )
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout_s=settings.body_timeout_s,
        max_depth=settings.max_json_depth,
        takes_json=json_body_routes(routers),
    )
    app.add_middleware(ApiKeyMiddleware, key=settings.key())
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory serving.app:app_from_env`` (each worker builds its own).

    The key is read from ``STANCE_API_KEY``/``STANCE_API_KEY_FILE`` and then removed from this
    process's environment, so the text worker processes it starts never see it.
    """
    logging.basicConfig(level=os.environ.get("STANCE_LOG_LEVEL", "INFO"))
    settings = ServiceSettings()
    os.environ.pop("STANCE_API_KEY", None)
    return create_app(settings)
