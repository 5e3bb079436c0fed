"""A JSON body is parsed once: by the body guard, which must parse it to check it.

:class:`serving.middleware.BodyGuardMiddleware` keeps the value it checked in the request's scope
under :data:`PARSED_JSON`; routes built with :class:`ParsedJsonRoute` hand that value to FastAPI
(Starlette's ``Request.json()`` returns what it holds), so a 2 MB body is not parsed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

PARSED_JSON = "stance.parsed_json"
"""Scope key of the body's JSON value, set by the body guard after its checks."""


class ParsedJsonRoute(APIRoute):
    """An ``APIRoute`` that reads a JSON body the body guard has already parsed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if PARSED_JSON in request.scope:
                request._json = request.scope[PARSED_JSON]  # what Request.json() returns
            return await handler(request)

        return handle
