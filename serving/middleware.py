"""Plain ASGI middleware, outermost first: metrics, API key, body guard, concurrency limit.

Each one answers with the service's JSON errors (:func:`serving.errors.error_response`) before
the request reaches FastAPI, so a missing key is 401 whatever the body holds, and a body that is
too large, too slow or not sane JSON never reaches the JSON parser or the schema. The body is read
before a concurrency slot is taken, so a slow body holds no slot while it trickles in. What
happens before a request exists (headers, sockets) is guarded in :mod:`serving.launch`.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
from typing import Any

from serving.errors import error_response
from serving.metrics import Metrics
from serving.parsing import PARSED_JSON

Scope = dict[str, Any]
PROTECTED_PREFIX = "/v1/"
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class MetricsMiddleware:
    """Count requests and time them by route (no per-request task overhead)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            self.metrics.observe_request(
                getattr(route, "path", "unmatched"), scope["method"], status, time.perf_counter() - started
            )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value
    return None


class ApiKeyMiddleware:
    """401 on /v1/* without the key, before a byte of the body is read."""

    def __init__(self, app: Any, key: str | None) -> None:
        self.app, self.key = app, key.encode() if key else None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if self.key is None or scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            return await self.app(scope, receive, send)
        auth = _header(scope, b"authorization") or b""
        given = auth[7:] if auth[:7].lower() == b"bearer " else (_header(scope, b"x-api-key") or b"")
        if given and secrets.compare_digest(given.strip(), self.key):
            return await self.app(scope, receive, send)
        response = error_response(
            401,
            "unauthorized",
            "missing or wrong API key (send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')",
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class ConcurrencyLimitMiddleware:
    """429 when ``limit`` requests are already in flight on /v1/*; ops endpoints always answer."""

    def __init__(self, app: Any, limit: int, retry_after_s: int = 1) -> None:
        self.app, self.limit, self.retry_after_s = app, limit, retry_after_s
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            response = error_response(
                429,
                "overloaded",
                f"{self.in_flight} requests in flight; limit {self.limit}. Retry later.",
                retry_after_s=self.retry_after_s,
            )
            return await response(scope, receive, send)
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class BodyGuardMiddleware:
    """Read the whole body first, within a size and a time limit, and check that JSON is sane.

    A chunked body is counted as it arrives, so it is refused at the limit without being
    buffered past it. JSON bodies must be UTF-8, at most ``max_depth`` levels deep, with no NaN
    or Infinity and no number literal longer than ``MAX_NUMBER_CHARS``.
    """

    def __init__(self, app: Any, max_bytes: int, timeout_s: float, max_depth: int) -> None:
        self.app, self.max_bytes, self.timeout_s, self.max_depth = app, max_bytes, timeout_s, max_depth

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            return await self.app(scope, receive, send)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(
                413, "body_too_large", f"request body {int(declared)} bytes; limit {self.max_bytes}"
            )
            return await response(scope, receive, send)
        try:
            async with asyncio.timeout(self.timeout_s):
                body = await self._read(receive)
        except TimeoutError:
            response = error_response(
                408, "body_timeout", f"the body did not arrive within {self.timeout_s:g} s"
            )
            return await response(scope, receive, send)
        except _BodyTooLarge:
            response = error_response(413, "body_too_large", f"request body over {self.max_bytes} bytes")
            return await response(scope, receive, send)
        except _ClientGone:
            return None
        # media types are case-insensitive (RFC 9110): Application/JSON gets the same checks
        content_type = (_header(scope, b"content-type") or b"application/json").split(b";")[0].strip().lower()
        if body and (content_type == b"application/json" or content_type.endswith(b"+json")):
            value, problem = parse_json(body, self.max_depth)
            if problem:
                return await error_response(422, "malformed_json", problem)(scope, receive, send)
            scope[PARSED_JSON] = value  # FastAPI reads this instead of parsing again
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            # after the body, the server's receive waits for the client to disconnect
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Any) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


# JavaScript's safe integers have 16 digits and doubles print in at most 24 characters; a longer
# literal is an attack on the parser (Python's int() is quadratic in the digit count), not data
MAX_NUMBER_CHARS = 40


class _Absurd(Exception):
    pass


def _number(text: str, convert: type) -> Any:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Absurd(f"a number literal of {len(text)} characters; at most {MAX_NUMBER_CHARS}")
    value = convert(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise _Absurd(f"number {text[:20]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise _Absurd(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def json_problem(body: bytes, max_depth: int) -> str | None:
    """What is wrong with a JSON body, or None when it is sane.

    Example:
        >>> json_problem(b'{"a": NaN}', 32)
        'NaN is not a JSON number'
    """
    return parse_json(body, max_depth)[1]


def parse_json(body: bytes, max_depth: int) -> tuple[Any, str | None]:
    """A JSON body's value and None when it is sane, else None and what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, f"the body is not valid UTF-8 (byte {err.start})"
    try:
        value = json.loads(
            text,
            parse_int=lambda s: _number(s, int),
            parse_float=lambda s: _number(s, float),
            parse_constant=_constant,
        )
    except RecursionError:
        return None, f"JSON nested deeper than {max_depth} levels"
    except _Absurd as err:
        return None, str(err)
    except json.JSONDecodeError as err:
        return None, f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
    depth = _depth(value)
    if depth > max_depth:
        return None, f"JSON nested {depth} levels deep; at most {max_depth}"
    return value, None
