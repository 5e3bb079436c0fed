"""A real uvicorn server in a background thread, for the tests that need real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from serving.workers import TextWorkerPool


class ServerThread:
    """uvicorn on a free loopback port in a background thread."""

    def __init__(self, app, config_for: Callable[[Any, int], uvicorn.Config] | None = None) -> None:
        """``config_for(app, port)`` builds the uvicorn config; default: plain loopback settings."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        config = (
            config_for(app, self.port)
            if config_for
            else uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def pool(self) -> TextWorkerPool:
        return self.app.state.service.pool
