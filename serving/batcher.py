"""Micro-batching: concurrent requests share one forward pass without blocking the event loop.

Each request's pairs wait in a :class:`Ticket`. The model thread takes batches round-robin over
the waiting tickets, a fair share from each, so a one-pair request rides in the next forward pass
even behind a 4,096-pair analysis. A request holds at most ``max_request_share`` places in the
bounded queue however many pairs it has (the rest of a large request waits its turn and counts
as one share), so a large request cannot make every other client's request a 429. A request
that is cancelled (its client left, its budget ran out) takes its waiting pairs with it.

When a batch fails, its pairs are run again one by one, so that a pair the model cannot read
fails its own request only (:class:`ItemRejectedError`, 422) and the others get their answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from stance.errors import InputError, OverloadedError
from stance.pairs import StancePair, StancePrediction

logger = logging.getLogger(__name__)

PredictFn = Callable[[list[StancePair]], list[StancePrediction]]


class QueueFullError(OverloadedError):
    """The bounded queue cannot take this request now; answer 429 with Retry-After."""


class ItemRejectedError(InputError):
    """The model failed on this one pair even alone; the message names the item (422)."""


class Ticket:
    """One request's pairs: which are still waiting, and the answers (or errors) so far."""

    def __init__(
        self, pairs: Sequence[StancePair], future: asyncio.Future, name: Callable[[int], str]
    ) -> None:
        self.pairs = list(pairs)
        self.future = future
        self.name = name
        self.taken = 0  # pairs handed to the model so far; the rest wait
        self.answered = 0
        self.results: list[StancePrediction | None] = [None] * len(self.pairs)

    @property
    def waiting(self) -> int:
        return len(self.pairs) - self.taken

    def take(self, n: int) -> list[tuple[Ticket, int]]:
        start, self.taken = self.taken, min(len(self.pairs), self.taken + n)
        return [(self, i) for i in range(start, self.taken)]

    def answer(self, index: int, prediction: StancePrediction) -> None:
        self.results[index] = prediction
        self.answered += 1
        if self.answered == len(self.pairs) and not self.future.done():
            self.future.set_result(self.results)

    def fail(self, err: BaseException) -> None:
        self.taken = len(self.pairs)  # the request has its answer: its other pairs need not run
        if not self.future.done():
            self.future.set_exception(err)


class MicroBatcher:
    """Collect pairs from concurrent requests into batches of up to ``max_batch_size``.

    The first waiting request starts a batch; others join it for up to ``max_wait_ms`` while
    several requests are arriving together (a lone request never waits). The model runs on one
    worker thread, so the event loop stays free and the model is never called concurrently.
    With ``enabled=False`` each request runs alone (the baseline).

    Args:
        predict: ``(list[StancePair]) -> list[StancePrediction]``, one per pair in order.
        max_batch_size: pairs per model call.
        max_wait_ms: how long a batch waits for more requests to join.
        max_queue: queue places; a request that finds too few free is refused (QueueFullError).
        max_request_share: places one request may hold; default a quarter of ``max_queue``.
        check: called with a request's pairs and their ``name`` before they are queued; raises
            InputError for a pair the model cannot read (``StanceClassifier.check_pairs``).
        on_batch: called with (pairs, seconds) after each model call.
    """

    def __init__(
        self,
        predict: PredictFn,
        max_batch_size: int = 64,
        max_wait_ms: float = 5.0,
        max_queue: int = 4096,
        enabled: bool = True,
        on_batch: Callable[[int, float], None] | None = None,
        max_request_share: int | None = None,
        check: Callable[[Sequence[StancePair], Callable[[int], str]], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        # a quarter: a large request leaves room for three more of its size and any number of
        # small ones; its other pairs wait their turn without holding places
        self.max_request_share = max_request_share or max(1, max_queue // 4)
        self.enabled = enabled
        self.on_batch = on_batch
        self.check = check
        self._tickets: deque[Ticket] = deque()
        self._arrived: asyncio.Event | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")

    @property
    def pending(self) -> int:
        """Queue places held now: each waiting request's pairs, up to its share."""
        return sum(min(t.waiting, self.max_request_share) for t in self._tickets)

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish everything already queued, then stop (graceful shutdown)."""
        if self._task is not None and self._arrived is not None:
            self._stopping = True
            self._arrived.set()
            await self._task
        self._executor.shutdown(wait=True)

    async def submit(
        self, pairs: Sequence[StancePair], name: Callable[[int], str] = "items[{}]".format
    ) -> list[StancePrediction]:
        """Queue one request's pairs; returns their predictions in order.

        Args:
            pairs: the request's pairs.
            name: how errors name the i-th pair (``items[3]``).

        Raises:
            InputError: a pair the model cannot read (checked before anything is queued).
            ItemRejectedError: the model failed on one of the pairs, even alone.
            QueueFullError: the queue has no room for this request now.
        """
        if not pairs:
            return []
        if self._arrived is None or self._stopping:
            raise RuntimeError("batcher not started")
        if self.check is not None:
            self.check(pairs, name)
        held = self.pending
        if held + min(len(pairs), self.max_request_share) > self.max_queue:
            raise QueueFullError(f"{held} pairs queued; limit {self.max_queue}")
        ticket = Ticket(pairs, asyncio.get_running_loop().create_future(), name)
        self._tickets.append(ticket)
        self._arrived.set()
        try:
            return await ticket.future
        finally:
            # cancelled (client gone, budget spent) or done: nothing of it waits any more
            if ticket.waiting:
                ticket.taken = len(ticket.pairs)
            if ticket in self._tickets:
                self._tickets.remove(ticket)

    def _take(self, limit: int) -> list[tuple[Ticket, int]]:
        """Up to ``limit`` pairs, round-robin over the waiting requests, a fair share from each."""
        taken: list[tuple[Ticket, int]] = []
        while len(taken) < limit and self._tickets:
            ticket = self._tickets.popleft()
            share = max(1, (limit - len(taken)) // (len(self._tickets) + 1))
            taken += ticket.take(share)
            if ticket.waiting:
                self._tickets.append(ticket)  # served: to the back of the line
        return taken

    async def _run(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._tickets:
                if self._stopping:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            if not self.enabled:
                ticket = self._tickets.popleft()
                await self._process(ticket.take(ticket.waiting), loop)
                continue
            # wait up to max_wait for more only when requests are arriving together
            deadline = loop.time() + self.max_wait
            while len(self._tickets) > 1 and self._waiting() < self.max_batch_size and not self._stopping:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), timeout)
                except TimeoutError:
                    break
            await self._process(self._take(self.max_batch_size), loop)

    def _waiting(self) -> int:
        return sum(t.waiting for t in self._tickets)

    async def _process(self, batch: list[tuple[Ticket, int]], loop: asyncio.AbstractEventLoop) -> None:
        # a request cancelled while its pairs sat in this batch no longer needs them
        batch = [(t, i) for t, i in batch if not t.future.done()]
        if not batch:
            return
        pairs = [ticket.pairs[i] for ticket, i in batch]
        started = time.perf_counter()
        try:
            preds = await loop.run_in_executor(self._executor, self.predict, pairs)
        except Exception as err:  # noqa: BLE001 - find the pair that failed; the others still get answers
            if len(batch) == 1:
                ticket, i = batch[0]
                where = ticket.name(i)
                logger.warning("prediction failed for %s", where, exc_info=True)
                reason = f"{where}: the model could not read this item ({type(err).__name__})"
                ticket.fail(ItemRejectedError(reason))
                return
            logger.warning("a batch of %d failed; retrying its items one by one", len(batch))
            for one in batch:
                await self._process([one], loop)
            return
        if self.on_batch:
            self.on_batch(len(batch), time.perf_counter() - started)
        for (ticket, i), pred in zip(batch, preds, strict=True):
            ticket.answer(i, pred)
