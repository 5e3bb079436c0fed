"""A JSON body is parsed once: by the body guard, which must parse it to check it.

:class:`serving.middleware.BodyGuardMiddleware` keeps the value it checked in the request's scope
under :data:`PARSED_JSON`; routes built with :class:`ParsedJsonRoute` hand that value to FastAPI
(Starlette's ``Request.json()`` returns what it holds), so a 2 MB body is not parsed twice.
The guard reads only the bodies of routes that take one (:func:`json_body_routes`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
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


def json_body_routes(routers: Iterable[APIRouter]) -> Callable[[str, str], bool]:
    """A test of ``(method, path)``: whether a route of ``routers`` reads a JSON body there.

    Built from the routes themselves (those with a body parameter), so a new route with a body is
    guarded without a list to keep in step.

    Example:
        >>> takes_json = json_body_routes(ROUTERS)
        >>> takes_json("POST", "/v1/stance"), takes_json("POST", "/health")
        (True, False)
    """
    routes = [
        (route.methods or set(), route.path_regex)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.body_field is not None
    ]

    def takes_json(method: str, path: str) -> bool:
        return any(method in methods and regex.match(path) for methods, regex in routes)

    return takes_json
