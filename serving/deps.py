"""The service's state and the dependencies that routes declare as ``Annotated`` types.

``ServiceDep`` is always there; ``StartedDep`` answers 503 ``not_ready`` while the service starts;
``StanceDep`` answers 503 ``stance_unavailable`` when no stance model is loaded; ``ClientDep`` is
who sent the request, the identity the shared queues are fair between (:mod:`serving.clients`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from serving.batcher import MicroBatcher
from serving.clients import request_client
from serving.errors import ApiError, ClientDisconnectedError
from serving.metrics import Metrics
from serving.settings import ServiceSettings
from serving.workers import TextWorkerPool
from stance.errors import BudgetExceededError, CapabilityUnavailableError, InputError, InputTooLargeError
from stance.model.folder import ModelMetadata
from stance.pairs import StancePair, StancePrediction, require_text

T = TypeVar("T")


@dataclass
class Service:
    """Everything a request may use; built by the lifespan, kept on ``app.state.service``."""

    settings: ServiceSettings
    metrics: Metrics
    pool: TextWorkerPool | None = None
    model: Any = None
    batcher: MicroBatcher | None = None
    info: ModelMetadata | None = None
    started: bool = False
    stance_unavailable: str | None = None

    async def predict(
        self,
        pairs: Sequence[StancePair],
        name: Callable[[int], str] = "items[{}]".format,
        client: str | None = None,
    ) -> list[StancePrediction]:
        """Stance predictions through the micro-batcher (requires a model); ``name(i)`` names the
        i-th pair in errors; ``client`` (``ClientDep``) is who the pairs queue for."""
        if self.batcher is None:
            raise CapabilityUnavailableError(self.stance_unavailable or "no stance model is loaded")
        return await self.batcher.submit(pairs, name, client)

    async def text_job(self, name: str, *args: Any, client: str | None = None) -> Any:
        """Run a text job (quote extraction) in a worker process within the request budget;
        ``client`` (``ClientDep``) is who the job waits for a worker as."""
        assert self.pool is not None, "the lifespan starts the pool before the service is started"
        return await self.pool.run(name, *args, budget_s=self.settings.request_timeout_s, client=client)


# The dependencies are coroutines, though they do not wait: FastAPI runs a plain function
# dependency in the thread pool every request shares (40 threads), so a request whose threads are
# all taken (slow label writes, large responses) made every other request wait to look up a field.


async def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def require_started(service: ServiceDep) -> Service:
    if not service.started:
        raise ApiError(503, "not_ready", "the service is still starting", headers={"Retry-After": "5"})
    return service


StartedDep = Annotated[Service, Depends(require_started)]


async def require_stance(service: StartedDep) -> Service:
    if service.batcher is None:
        raise CapabilityUnavailableError(service.stance_unavailable or "no stance model is loaded")
    return service


StanceDep = Annotated[Service, Depends(require_stance)]

ClientDep = Annotated[str, Depends(request_client)]


def check_text(text: str, limit: int, what: str) -> None:
    """Refuse an empty text or one that is not UTF-8-encodable (422), or one over its limit (413)."""
    if not text.strip():
        raise InputError(f"{what} is empty")
    if len(text) > limit:
        raise InputTooLargeError(f"{what} has {len(text)} characters; limit {limit}")
    require_text(text, what)


def check_context(context: str | None, limit: int, what: str) -> None:
    """Refuse a context (the quote's paragraph, read after it) over its limit (413); None passes."""
    if context is not None and len(context) > limit:
        raise InputTooLargeError(
            f"{what} has {len(context)} characters; limit {limit} "
            "(send the quote's paragraph, not the article)"
        )


async def _disconnected(request: Request) -> None:
    # once the body is read, the server's receive() returns only when the client goes away
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def within_budget(request: Request, work: Awaitable[T], budget_s: float) -> T:
    """Await ``work``, cancelling it when the client disconnects or ``budget_s`` passes.

    Cancelling the work kills any worker process that runs it (see :mod:`serving.workers`).

    Raises:
        BudgetExceededError: the budget passed first.
        ClientDisconnectedError: the client went away first.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, timeout=budget_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if task in done:
        return task.result()
    task.cancel()
    # wait for the cancellation to run its clean-up (killing the worker) before answering
    await asyncio.gather(task, return_exceptions=True)
    if watcher in done and not watcher.cancelled():
        raise ClientDisconnectedError
    raise BudgetExceededError(f"the request took longer than its {budget_s:g} s budget; its work was stopped")
