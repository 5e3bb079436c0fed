"""JSON responses built and serialised off the event loop.

A large answer (a 2.9 MB quote list) takes a while to turn into bytes; done on the event loop it
delays every other request, ``/health`` included (issue 17). Routes hand :func:`json_response` a
function that builds the payload; it runs on a worker thread, where pure-Python work yields the
interpreter to the loop every few milliseconds. The bytes are what FastAPI's ``JSONResponse``
writes, and the payload follows the route's response model field for field (a test pins them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response


def render(payload: Any) -> bytes:
    """``payload`` as JSON bytes, exactly as Starlette's ``JSONResponse`` renders it."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    return text.encode("utf-8")


async def json_response(build: Callable[[], Any], status_code: int = 200) -> Response:
    """A JSON response whose payload is built and serialised on a worker thread."""
    body = await run_in_threadpool(lambda: render(build()))
    return Response(body, status_code=status_code, media_type="application/json")
