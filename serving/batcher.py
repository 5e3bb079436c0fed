"""Micro-batching: concurrent requests share one forward pass without blocking the event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from stance.errors import OverloadedError

logger = logging.getLogger(__name__)

Item = tuple[str, str, str | None]  # text, topic, context


class QueueFullError(OverloadedError):
    """The bounded queue cannot take this request now; answer 429 with Retry-After."""


class MicroBatcher:
    """Collect items from concurrent requests into batches of up to ``max_batch_size``.

    The first waiting request starts a batch; others join it for up to ``max_wait_ms``. The
    model runs on one worker thread, so the event loop stays free and the model is never
    called concurrently. With ``enabled=False`` each request runs alone (the baseline).
    """

    def __init__(
        self,
        predict: Callable[[list[str], list[str], list[str | None]], list],
        max_batch_size: int = 64,
        max_wait_ms: float = 5.0,
        max_queue: int = 4096,
        enabled: bool = True,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.enabled = enabled
        self.on_batch = on_batch
        self.pending = 0
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish everything already queued, then stop (graceful shutdown)."""
        if self._queue is not None and self._task is not None:
            await self._queue.put(None)
            await self._task
        self._executor.shutdown(wait=True)

    async def submit(self, items: Sequence[Item]) -> list:
        """Queue items; returns their predictions in order. Raises QueueFullError when full."""
        if not items:
            return []
        if self._queue is None:
            raise RuntimeError("batcher not started")
        if self.pending + len(items) > self.max_queue:
            raise QueueFullError(f"{self.pending} items queued; limit {self.max_queue}")
        future = asyncio.get_running_loop().create_future()
        self.pending += len(items)
        await self._queue.put((list(items), future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            entry = await self._queue.get()
            if entry is None:
                break
            batch = [entry]
            size = len(entry[0])
            if self.enabled:
                # take everything already queued; wait up to max_wait for more only when
                # requests are arriving together, so a lone request never waits
                deadline = loop.time() + self.max_wait
                while size < self.max_batch_size:
                    try:
                        nxt = self._queue.get_nowait()
                    except asyncio.QueueEmpty:
                        timeout = deadline - loop.time()
                        if len(batch) == 1 or timeout <= 0:
                            break
                        try:
                            nxt = await asyncio.wait_for(self._queue.get(), timeout)
                        except TimeoutError:
                            break
                    if nxt is None:
                        stopping = True
                        break
                    batch.append(nxt)
                    size += len(nxt[0])
            await self._process(batch, loop)
        # drain anything left after the stop marker
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not None:
                await self._process([entry], loop)

    async def _process(self, batch: list, loop: asyncio.AbstractEventLoop) -> None:
        items = [item for entry, _ in batch for item in entry]
        started = time.perf_counter()
        try:
            preds = await loop.run_in_executor(
                self._executor,
                self.predict,
                [i[0] for i in items],
                [i[1] for i in items],
                [i[2] for i in items],
            )
        except Exception as err:  # noqa: BLE001 - every waiting request must hear about it
            logger.exception("prediction failed for a batch of %d", len(items))
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        finally:
            self.pending -= len(items)
        if self.on_batch:
            self.on_batch(len(items), time.perf_counter() - started)
        offset = 0
        for entry, future in batch:
            if not future.done():
                future.set_result(preds[offset : offset + len(entry)])
            offset += len(entry)
