"""Plain ASGI middleware, outermost first: metrics, API key, body guard, concurrency limit.

Each one answers with the service's JSON errors (:func:`serving.errors.error_response`) before
the request reaches FastAPI, so a missing key is 401 whatever the body holds, and a body that is
too large, too slow or not sane JSON never reaches the JSON parser or the schema. Only the body
of a route that reads JSON is parsed; elsewhere (``/health``, an unknown path) no body is. The
body is read before a concurrency slot is taken, so a slow body holds no slot while it trickles
in. What happens before a request exists (headers, sockets) is guarded in :mod:`serving.launch`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import re
import secrets
import time
from collections.abc import Callable
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
    buffered past it. JSON bodies must be sane (:func:`parse_json`): UTF-8, at most ``max_depth``
    levels deep, with no NaN or Infinity and no number literal longer than ``MAX_NUMBER_CHARS``.
    Only a body for a route that reads JSON (``takes_json(method, path)``) is parsed; elsewhere
    (``/health``, an unknown path) it is read within the same limits, so the connection stays
    usable, and answered 404 or 405 unparsed.
    """

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        timeout_s: float,
        max_depth: int,
        takes_json: Callable[[str, str], bool],
    ) -> None:
        self.app, self.max_bytes, self.timeout_s, self.max_depth = app, max_bytes, timeout_s, max_depth
        self.takes_json = takes_json

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
        is_json = content_type == b"application/json" or content_type.endswith(b"+json")
        if body and is_json and self.takes_json(scope["method"], scope["path"]):
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

# Every check below is a C-speed pass over the raw bytes (regex, replace, translate), and json.loads
# runs without a per-number hook: the check runs on the event loop, and a 2 MB body of a million
# numbers or lists costs about what json.loads costs, where a Python call per number and a walk
# of every node cost ten times that (seconds in which no other client was answered)
_STRING = re.compile(rb'"[^"]*"')
# outside strings a run of these is one number literal: JSON separates values with , : [ ] { }
_NUMBER_CHARS = b"-+.0123456789eE"
_NUMBER_AS_ZEROS = bytes.maketrans(_NUMBER_CHARS, b"0" * len(_NUMBER_CHARS))
_LONG_NUMBER = b"0" * (MAX_NUMBER_CHARS + 1)
_NUMBER_RUN = re.compile(b"0+")
# a literal of at most 40 characters reaches a double's 1.8e308 only with an exponent of 100 or more
_BIG_FLOAT = re.compile(rb"-?[0-9.]+[eE]\+?0*[1-9][0-9]{2,}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_CURLY_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


def _outside_strings(body: bytes) -> bytes:
    """The body with every string literal emptied: brackets, numbers, literals and separators."""
    # escapes pair from the left, so once every \\ is gone a \" is always an escaped quote
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return _STRING.sub(b'""', unescaped)


def _deeper_than(structure: bytes, limit: int) -> bool:
    """Whether the containers of a valid JSON document nest more than ``limit`` levels."""
    brackets = structure.translate(_CURLY_AS_SQUARE, _NOT_BRACKETS)
    # each pass removes the innermost pairs, so a container nested h levels deep is gone after h
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


class _Absurd(Exception):
    pass


def _constant(name: str) -> Any:
    raise _Absurd(f"{name} is not a JSON number")


def json_problem(body: bytes, max_depth: int) -> str | None:
    """What is wrong with a JSON body, or None when it is sane.

    Example:
        >>> json_problem(b'{"a": NaN}', 32)
        'NaN is not a JSON number'
    """
    return parse_json(body, max_depth)[1]


def parse_json(body: bytes, max_depth: int) -> tuple[Any, str | None]:
    """A JSON body's value and None when it is sane, else None and what is wrong with it.

    Sane: UTF-8, at most ``max_depth`` levels of containers, no number literal over
    ``MAX_NUMBER_CHARS`` characters, no NaN or Infinity, no number out of a double's range.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, f"the body is not valid UTF-8 (byte {err.start})"
    structure = _outside_strings(body)
    # before json.loads, which would convert the literal (quadratic in its digits)
    numbers = structure.translate(_NUMBER_AS_ZEROS)
    if (at := numbers.find(_LONG_NUMBER)) >= 0:
        size = len(_NUMBER_RUN.match(numbers, at).group())  # type: ignore[union-attr]
        return None, f"a number literal of {size} characters; at most {MAX_NUMBER_CHARS}"
    collecting = gc.isenabled()
    # a JSON value holds no reference cycles, but a body of a million empty lists would start the
    # cyclic collector over the server's whole heap dozens of times (1.1 s, not 0.07 s)
    gc.disable()
    try:
        value = json.loads(text, parse_constant=_constant)
    except RecursionError:
        return None, f"JSON nested deeper than {max_depth} levels"
    except _Absurd as err:
        return None, str(err)
    except json.JSONDecodeError as err:
        return None, f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
    except ValueError as err:  # what json.loads lets through from int() or float()
        return None, f"not valid JSON: {err}"
    finally:
        if collecting:
            gc.enable()
    if _deeper_than(structure, max_depth):
        return None, f"JSON nested deeper than {max_depth} levels"
    if b"e" in structure or b"E" in structure:
        big = _BIG_FLOAT.findall(structure)
        if math.isinf(max(map(abs, map(float, big)), default=0.0)):  # these loops run in C
            literal = next(x for x in big if math.isinf(float(x))).decode()
            return None, f"number {literal[:20]} is out of range"
    return value, None
