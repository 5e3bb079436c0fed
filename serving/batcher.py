"""Micro-batching: concurrent requests share one forward pass without blocking the event loop.

Each request's pairs wait in a :class:`Ticket`, and each client's tickets in its own line
(:mod:`serving.clients` says who a client is). The model thread takes batches round-robin over
the waiting clients, a fair share from each, and each client's share round-robin over its own
requests, so a one-pair request rides in the next forward pass even behind a 4,096-pair
analysis, and a client with many requests in flight gets one turn, not one per request.

A request holds at most ``max_request_share`` places in the bounded queue however many pairs it
has (the rest of a large request waits its turn and counts as one share), and a client's
requests together at most ``max_client_share``: past it that client's next request is a 429, so
one client, however many requests it sends, cannot make every other client's request a 429.
A request submitted without a client is a client of its own. A request that is cancelled (its
client left, its budget ran out) takes its waiting pairs with it.

When a batch fails, its pairs are run again one by one, so that a pair the model cannot read
fails its own request only (:class:`ItemRejectedError`, 422) and the others get their answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Sequence
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
        self,
        pairs: Sequence[StancePair],
        future: asyncio.Future,
        name: Callable[[int], str],
        client: Hashable,
    ) -> None:
        self.pairs = list(pairs)
        self.future = future
        self.name = name
        self.client = client
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


class _Client:
    """One client's waiting requests, in the order they take turns."""

    def __init__(self) -> None:
        self.tickets: dict[Ticket, Ticket] = {}  # an ordered set: the line of its requests

    @property
    def waiting(self) -> int:
        return sum(t.waiting for t in self.tickets)

    def held(self, request_share: int) -> int:
        """Queue places its requests hold: each one's waiting pairs, up to ``request_share``."""
        return sum(min(t.waiting, request_share) for t in self.tickets)

    def take(self, n: int) -> list[tuple[Ticket, int]]:
        return _round_robin(self.tickets, n)


def _round_robin(line: dict[Ticket, Ticket], limit: int) -> list[tuple[Ticket, int]]:
    """Up to ``limit`` pairs from the requests of ``line`` (an insertion-ordered set), round-robin,
    a fair share from each; one served and still waiting goes to the back."""
    taken: list[tuple[Ticket, int]] = []
    while len(taken) < limit and line:
        ticket = line.pop(next(iter(line)))
        share = max(1, (limit - len(taken)) // (len(line) + 1))
        taken += ticket.take(share)
        if ticket.waiting:
            line[ticket] = ticket  # served: to the back of the line
    return taken


def _chars(pair: StancePair) -> int:
    """What a pair costs the model, roughly: the characters it reads (topic, quote, context)."""
    return len(pair.topic) + len(pair.reading) + len(pair.context or "")


# a pass holds pairs up to this many times as long as its shortest (and at least SHORT_CHARS)
LENGTH_RATIO, SHORT_CHARS = 2, 200


def _length_chunks(batch: list[tuple[Ticket, int]]) -> list[list[tuple[Ticket, int]]]:
    """``batch`` sorted by the pairs' length and cut where a pair is more than ``LENGTH_RATIO``
    times as long as the first of its chunk: at most a few passes, each padded to like lengths.

    Example: bare quotes of 60-120 characters and quotes with 600-character paragraphs make two
    passes; a batch of bare quotes makes one.
    """
    ordered = sorted(batch, key=lambda item: _chars(item[0].pairs[item[1]]))
    chunks: list[list[tuple[Ticket, int]]] = []
    bound = -1
    for item in ordered:
        size = _chars(item[0].pairs[item[1]])
        if not chunks or size > bound:
            chunks.append([])
            bound = max(LENGTH_RATIO * size, SHORT_CHARS)
        chunks[-1].append(item)
    return chunks


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
        max_client_share: places one client's requests may hold together; default a quarter
            of ``max_queue`` (at least ``max_request_share``).
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
        max_client_share: int | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        # a quarter: a large request leaves room for three more of its size and any number of
        # small ones; its other pairs wait their turn without holding places
        self.max_request_share = max_request_share or max(1, max_queue // 4)
        # a quarter too: however many requests one client sends, three quarters of the queue stay
        # for the others; never below one request's share, so a client's first request fits
        self.max_client_share = max(max_client_share or max_queue // 4, self.max_request_share)
        self.enabled = enabled
        self.on_batch = on_batch
        self.check = check
        # client -> its waiting requests; insertion-ordered: the line in which clients take turns
        self._clients: dict[Hashable, _Client] = {}
        self._arrived: asyncio.Event | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")

    @property
    def pending(self) -> int:
        """Queue places held now: each waiting request's pairs, up to its share."""
        return sum(c.held(self.max_request_share) for c in self._clients.values())

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
        self,
        pairs: Sequence[StancePair],
        name: Callable[[int], str] = "items[{}]".format,
        client: Hashable | None = None,
    ) -> list[StancePrediction]:
        """Queue one request's pairs; returns their predictions in order.

        Args:
            pairs: the request's pairs.
            name: how errors name the i-th pair (``items[3]``).
            client: who sent the request (:func:`serving.clients.request_client`); requests of
                one client share its turns and its ``max_client_share``. None: a client of its own.

        Raises:
            InputError: a pair the model cannot read (checked before anything is queued).
            ItemRejectedError: the model failed on one of the pairs, even alone.
            QueueFullError: the queue, or this client's share of it, has no room for this
                request now.
        """
        if not pairs:
            return []
        if self._arrived is None or self._stopping:
            raise RuntimeError("batcher not started")
        if self.check is not None:
            self.check(pairs, name)
        key = client if client is not None else object()
        need = min(len(pairs), self.max_request_share)
        line = self._clients.get(key)
        mine = line.held(self.max_request_share) if line is not None else 0
        if mine + need > self.max_client_share:
            raise QueueFullError(
                f"your requests hold {mine} of the {self.max_client_share} queue places one client "
                "may hold; send this one when they are answered"
            )
        held = self.pending
        if held + need > self.max_queue:
            raise QueueFullError(f"{held} pairs queued; limit {self.max_queue}")
        ticket = Ticket(pairs, asyncio.get_running_loop().create_future(), name, key)
        if line is None:
            line = self._clients[key] = _Client()  # a new client joins the back of the line
        line.tickets[ticket] = ticket
        self._arrived.set()
        try:
            return await ticket.future
        finally:
            # cancelled (client gone, budget spent) or done: nothing of it waits any more
            if ticket.waiting:
                ticket.taken = len(ticket.pairs)
            self._forget(ticket)

    def _forget(self, ticket: Ticket) -> None:
        line = self._clients.get(ticket.client)
        if line is not None and line.tickets.pop(ticket, None) is not None and not line.tickets:
            del self._clients[ticket.client]

    def _take(self, limit: int) -> list[tuple[Ticket, int]]:
        """Up to ``limit`` pairs: one turn for each waiting client, each taking at most an equal
        share (``limit`` over the clients waiting), spread round-robin over its requests.

        A share a client leaves unused is not handed to another: a client with thousands of pairs
        waiting beside thirty-two with one each rides with one or two of them, not with the
        thirty-one places the others left, so their pass stays as short as without it (its
        pairs are often the longer ones). Alone, a client takes whole batches.
        """
        share = max(1, limit // len(self._clients))
        taken: list[tuple[Ticket, int]] = []
        for _ in range(len(self._clients)):
            if len(taken) >= limit:
                break
            key = next(iter(self._clients))
            line = self._clients.pop(key)
            taken += line.take(min(share, limit - len(taken)))
            if line.waiting:
                self._clients[key] = line  # served: to the back of the line
        return taken

    def _take_request(self) -> list[tuple[Ticket, int]]:
        """All of one request's pairs (no batching): the oldest of the next client's requests."""
        key = next(iter(self._clients))
        line = self._clients.pop(key)
        ticket = next(iter(line.tickets))
        del line.tickets[ticket]
        if line.waiting:
            self._clients[key] = line  # served: to the back of the line
        return ticket.take(ticket.waiting)

    async def _run(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._clients:
                if self._stopping:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            if not self.enabled:
                await self._process(self._take_request(), loop)
                continue
            # wait up to max_wait for more only when requests are arriving together
            deadline = loop.time() + self.max_wait
            while self._requests() > 1 and self._waiting() < self.max_batch_size and not self._stopping:
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
        return sum(c.waiting for c in self._clients.values())

    def _requests(self) -> int:
        return sum(len(c.tickets) for c in self._clients.values())

    async def _process(self, batch: list[tuple[Ticket, int]], loop: asyncio.AbstractEventLoop) -> None:
        """Run a batch as forward passes of pairs of like length, shortest first, answering each
        pass's pairs as soon as it is done: a forward pass pads every pair to its longest, so a
        bare quote beside a quote with its paragraph would wait for, and pay for, the long one."""
        for chunk in _length_chunks(batch):
            await self._forward(chunk, loop)

    async def _forward(self, batch: list[tuple[Ticket, int]], loop: asyncio.AbstractEventLoop) -> None:
        # a request cancelled while its pairs waited (in this batch too) no longer needs them
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
                await self._forward([one], loop)
            return
        if self.on_batch:
            self.on_batch(len(batch), time.perf_counter() - started)
        for (ticket, i), pred in zip(batch, preds, strict=True):
            ticket.answer(i, pred)
