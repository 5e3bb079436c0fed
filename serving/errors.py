"""The service's error contract: every error is JSON ``{"error": {"code", "message"[, "details"]}}``.

Core errors (:mod:`stance.errors`) map to HTTP statuses here, once; errors that exist only in HTTP
(a missing key, a slow body, an unknown path) are :class:`ApiError` with their own status.

======  ====================  ===========================================================
status  code                  when
======  ====================  ===========================================================
401     unauthorized          no or wrong API key on /v1/* (checked before the body is read)
404     not_found             unknown path
405     method_not_allowed    wrong method for the path
408     body_timeout          the client took longer than ``body_timeout_s`` to send its body
413     body_too_large        body over ``max_body_bytes`` (declared or chunked)
413     too_large             a text, context, item list or topic list over its limit
422     malformed_json        not UTF-8, not JSON, nested too deep, absurd numbers, NaN
422     invalid_request       valid JSON that does not fit the schema, empty text or topic
429     overloaded            too many requests in flight or queued (Retry-After)
500     internal_error        a bug; details are in the server log only
503     not_ready             the service is still starting (Retry-After)
503     stance_unavailable    no stance model is loaded; the message says how to get one
503     parser_unavailable    reported speech needs spaCy; the message says what to install
503     timeout               the request ran past ``request_timeout_s``; its work was stopped
503     worker_lost           a text worker died during the request (Retry-After)
======  ====================  ===========================================================
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.workers import WorkerLostError
from stance.errors import (
    BudgetExceededError,
    CapabilityUnavailableError,
    ConfigError,
    DataError,
    DataNotFoundError,
    InputError,
    InputTooLargeError,
    ModelLoadError,
    OverloadedError,
    ParserUnavailable,
    StanceError,
    lookup,
)

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error that exists only in HTTP: a status, a short code and a message for the client."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class MalformedJsonError(InputError):
    """The body is not UTF-8 JSON within the depth and number limits."""


class ClientDisconnectedError(Exception):
    """The client went away before the answer; its work was cancelled."""


HTTP_STATUS: dict[type[StanceError], tuple[int, str]] = {
    MalformedJsonError: (422, "malformed_json"),
    InputTooLargeError: (413, "too_large"),
    InputError: (422, "invalid_request"),
    DataError: (422, "invalid_request"),
    OverloadedError: (429, "overloaded"),
    ParserUnavailable: (503, "parser_unavailable"),
    CapabilityUnavailableError: (503, "stance_unavailable"),
    ModelLoadError: (503, "model_unavailable"),
    DataNotFoundError: (503, "data_unavailable"),
    BudgetExceededError: (503, "timeout"),
    WorkerLostError: (503, "worker_lost"),
    ConfigError: (500, "config_error"),
    StanceError: (500, "internal_error"),
}
"""Core error class -> (status, code); the nearest class in the error's MRO wins."""

RETRY_AFTER = {429, 503}


def status_for(err: StanceError) -> tuple[int, str]:
    """The HTTP status and code of a core error."""
    return lookup(err, HTTP_STATUS, (500, "internal_error"))


def error_response(
    status: int,
    code: str,
    message: str,
    details: list | None = None,
    headers: dict[str, str] | None = None,
    retry_after_s: int = 1,
) -> JSONResponse:
    """The one way any part of the service answers with an error."""
    body: dict = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    headers = dict(headers or {})
    if status in RETRY_AFTER:
        headers.setdefault("Retry-After", str(retry_after_s))
    return JSONResponse(body, status_code=status, headers=headers)


async def stance_error(request: Request, err: Exception) -> Response:
    assert isinstance(err, StanceError)
    status, code = status_for(err)
    if status >= 500 and status != 503:
        logger.exception("error while serving %s", request.url.path, exc_info=err)
    return error_response(status, code, str(err), retry_after_s=_retry_after(request))


async def api_error(request: Request, err: Exception) -> Response:
    assert isinstance(err, ApiError)
    return error_response(err.status, err.code, err.message, headers=err.headers)


async def validation_error(request: Request, err: Exception) -> Response:
    assert isinstance(err, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", [])), "msg": e.get("msg"), "type": e.get("type")} for e in err.errors()
    ]
    if any(d["type"] in {"string_too_long", "too_long"} for d in details):
        return error_response(413, "too_large", "a field is over its length limit", details)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(422, "malformed_json", "the body is not valid JSON", details)
    return error_response(422, "invalid_request", "the request does not match the schema", details)


async def http_error(request: Request, err: Exception) -> Response:
    assert isinstance(err, StarletteHTTPException)
    if err.status_code == 400:
        # the contract has no bare 400: whatever Starlette could not parse is an invalid request
        return error_response(422, "invalid_request", str(err.detail))
    code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
    return error_response(err.status_code, code, str(err.detail), headers=dict(err.headers or {}))


async def client_gone(request: Request, err: Exception) -> Response:
    # nobody reads this; 499 (nginx's "client closed request") labels it in the metrics
    return Response(status_code=499)


async def unexpected(request: Request, err: Exception) -> Response:
    logger.exception("unhandled error while serving %s", request.url.path, exc_info=err)
    return error_response(500, "internal_error", "internal error; see the server log")


def _retry_after(request: Request) -> int:
    service = getattr(request.app.state, "service", None)
    return service.settings.retry_after_s if service is not None else 1


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(StanceError, stance_error)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnectedError, client_gone)
    app.add_exception_handler(Exception, unexpected)
