"""Start the service under uvicorn: its options, the connection guard, the environment and key file.

``stance serve`` builds :class:`~serving.settings.ServiceSettings` and calls :func:`run`; tests
build a server with :func:`server_config` so they run under the same limits.

Connections are guarded below the ASGI app, in the HTTP protocol (:class:`GuardedHttpProtocol`),
because a socket that never finishes its headers never reaches the app:

- a request's headers must arrive within ``header_timeout_s`` (a silent or trickling socket is
  answered 408 and closed), and be at most ``max_header_bytes`` (431, before more is buffered);
- between requests a kept-alive socket is closed after ``keep_alive_s``;
- past ``max_connections`` open sockets, or ``max_connections_per_client`` from one address, a
  request is answered 503 / 429 and its socket closed; ``/health`` is still answered;
- every one of these answers, like the 400 for a malformed request, is the service's JSON error.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from serving.clients import client_identity
from serving.errors import error_response
from serving.settings import ServiceSettings

logger = logging.getLogger(__name__)

# the ops endpoint a load balancer polls: answered even on a connection over a limit
ALWAYS_ANSWERED = frozenset({"/health"})
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class ConnectionLimits:
    """What one uvicorn process allows each socket (see the module docstring)."""

    header_timeout_s: float
    max_header_bytes: int
    max_connections: int
    max_connections_per_client: int

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ConnectionLimits:
        return cls(
            header_timeout_s=settings.header_timeout_s,
            max_header_bytes=settings.max_header_bytes,
            max_connections=settings.max_connections,
            max_connections_per_client=settings.max_connections_per_client,
        )


def raw_error(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 error response in the service's JSON format, closing the connection.

    For answers written straight to a socket, where no request (or no valid one) was read.
    """
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % (status, _REASONS.get(status, b"Error"), len(body))
    )
    return head + body


def refusing(app: Any, status: int, code: str, message: str, retry_after_s: int = 1) -> Any:
    """An ASGI app that answers every request but ``/health`` with a JSON error and closes."""

    async def refuse(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ALWAYS_ANSWERED:
            return await app(scope, receive, send)
        response = error_response(
            status, code, message, headers={"Connection": "close"}, retry_after_s=retry_after_s
        )
        await response(scope, receive, send)

    return refuse


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header timeout, header size and connection caps.

    The limits are per server (per uvicorn worker process): :func:`server_config` attaches them
    to the uvicorn config; otherwise :func:`run` sets them for the process, and a worker started
    by import string reads them from the environment.
    """

    from_environment: ClassVar[ConnectionLimits | None] = None

    def _limits(self) -> ConnectionLimits:
        limits = getattr(self.config, "stance_limits", None)
        if limits is None:
            if GuardedHttpProtocol.from_environment is None:
                GuardedHttpProtocol.from_environment = ConnectionLimits.from_settings(ServiceSettings())
            limits = GuardedHttpProtocol.from_environment
        return limits

    @property
    def per_client(self) -> Counter[str]:
        """Open sockets per client address on this server."""
        counts = getattr(self.server_state, "stance_per_client", None)
        if counts is None:
            counts = self.server_state.stance_per_client = Counter()  # type: ignore[attr-defined]
        return counts

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        limits = self._limits()
        self._guarded_app = self.app
        # one count per client as the queues see one (an IPv6 address counts as its /64): rotating
        # through the addresses of one network does not buy more sockets
        self._host = client_identity(self.client[0] if self.client else None)
        self.per_client[self._host] += 1
        self._header_bytes = 0
        self._header_timer: Any = None
        self._awaiting_headers = True
        self._start_header_clock()
        if len(self.connections) > limits.max_connections:
            logger.warning("refusing a connection: %d open", len(self.connections))
            self.app = refusing(
                self._guarded_app,
                503,
                "too_many_connections",
                f"the server holds {len(self.connections) - 1} open connections; limit "
                f"{limits.max_connections}. Retry later.",
            )
        elif self.per_client[self._host] > limits.max_connections_per_client:
            logger.warning("refusing a connection from %s: %d open", self._host, self.per_client[self._host])
            self.app = refusing(
                self._guarded_app,
                429,
                "too_many_connections",
                f"{self.per_client[self._host] - 1} connections already open from your address; limit "
                f"{limits.max_connections_per_client}. Reuse a connection or close one.",
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        self.per_client[self._host] -= 1
        if self.per_client[self._host] <= 0:
            del self.per_client[self._host]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        limit = self._limits().max_header_bytes
        if self._awaiting_headers and self._header_bytes > limit and not self.transport.is_closing():
            self._answer_and_close(
                431, "headers_too_large", f"request headers over {limit} bytes; send fewer or shorter headers"
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            # a kept-alive socket's next request starts its own header clock
            self._start_header_clock()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._stop_header_clock()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined:
            # the next request's header bytes count from zero; keep-alive guards the idle time
            self._awaiting_headers = True
            self._header_bytes = 0

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(400, "malformed_http", f"not a valid HTTP/1.1 request ({msg.rstrip('.')})")

    def _answer_and_close(self, status: int, code: str, message: str) -> None:
        self._stop_header_clock()
        if not self.transport.is_closing():
            self.transport.write(raw_error(status, code, message))
            self.transport.close()

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_timer = self.loop.call_later(self._limits().header_timeout_s, self._headers_late)

    def _stop_header_clock(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and (self.cycle is None or self.cycle.response_complete):
            seconds = self._limits().header_timeout_s
            self._answer_and_close(
                408, "header_timeout", f"the request headers did not arrive within {seconds:g} s"
            )


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's options for these settings (host, port, timeouts, the guarded protocol)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "http": GuardedHttpProtocol,
        "timeout_keep_alive": max(1, round(settings.keep_alive_s)),
        # the guard refuses past max_connections in JSON; uvicorn's own limit answers in plain text
        "limit_concurrency": None,
        "timeout_graceful_shutdown": 30,
    }


def server_config(app: Any, settings: ServiceSettings, **overrides: Any) -> uvicorn.Config:
    """A uvicorn config for ``app`` under the service's connection limits (tests use this too)."""
    config = uvicorn.Config(app, **(uvicorn_options(settings) | overrides))
    config.stance_limits = ConnectionLimits.from_settings(settings)  # type: ignore[attr-defined]
    return config


def environment_for_workers(settings: ServiceSettings, key: str | None) -> None:
    """Several uvicorn workers build their app from the environment: write every setting but
    the key there, and hand the key over in a private file (mode 0600, deleted on exit)."""
    for name, value in settings.model_dump(exclude={"api_key", "api_key_file"}).items():
        if value is not None:
            os.environ[f"STANCE_{name.upper()}"] = str(value)
    if key is not None and settings.api_key_file is None:
        folder = tempfile.mkdtemp(prefix="stance-key-")  # mode 0700
        path = Path(folder) / "key"
        path.touch(mode=0o600)
        path.write_text(key)
        atexit.register(shutil.rmtree, folder, True)
        os.environ["STANCE_API_KEY_FILE"] = str(path)
    elif settings.api_key_file is not None:
        os.environ["STANCE_API_KEY_FILE"] = str(settings.api_key_file)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="stance-metrics-")


def run(settings: ServiceSettings) -> None:
    """Serve until interrupted: one process, or ``settings.workers`` uvicorn workers.

    The key is removed from this process's environment first, so no child process inherits it.
    """
    key = settings.key()
    os.environ.pop("STANCE_API_KEY", None)
    if settings.workers == 1:
        from serving.app import create_app

        GuardedHttpProtocol.from_environment = ConnectionLimits.from_settings(settings)
        uvicorn.run(create_app(settings), **uvicorn_options(settings))
        return
    environment_for_workers(settings, key)
    options = uvicorn_options(settings)
    # each worker imports the protocol and reads its limits from the environment written above
    options["http"] = f"{GuardedHttpProtocol.__module__}:{GuardedHttpProtocol.__name__}"
    uvicorn.run("serving.app:app_from_env", factory=True, workers=settings.workers, **options)
