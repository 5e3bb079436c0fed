"""Text work (quote extraction) in worker processes that can be killed.

The quote splitter is pure Python: a slow input would hold the interpreter lock of whatever
process runs it, so it never runs in the process that answers ``/health``. Each job goes to an
idle worker process over a pipe. A job whose client has gone away (the awaiting task is
cancelled) is interrupted inside its worker (SIGUSR1 raises in the job, which the worker catches),
so it costs no more than it already has and the worker takes the next job at once; a job that runs
past its time budget, whether interrupted or not, gets its worker killed with SIGKILL and a fresh
one started, so the work stops instead of running on unseen. An error a job raises reaches the
caller as its own class when it is one of the project's errors (``ParserUnavailable`` is a 503
that says what to install), else as :class:`TextJobError`.

Jobs that wait for a worker wait in one line per client (:mod:`serving.clients`): a free worker
goes to the oldest job of the next client in turn, not to the oldest job of all, and one client
may keep at most ``max_client_waiting`` jobs waiting (past it its next job is refused), so a
client sending many large texts at once delays another client's text by about one job, not by
all of its own.

Example:
    >>> pool = TextWorkerPool(size=2)
    >>> await pool.start()
    >>> quotes = await pool.run("quotes", article, budget_s=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from stance.errors import BudgetExceededError, OverloadedError, StanceError

logger = logging.getLogger(__name__)

TASKS: dict[str, str] = {
    # the attribution tagger, when on disk, is loaded once per worker (stance.quotes.tagger.shared_tagger)
    "quotes": "stance.quotes.pipeline:extract_quotes_auto",
    "quotes_with_context": "stance.analysis:quotes_with_context",
}
"""Job name -> ``module:function`` run in the worker; tests swap in their own functions."""


# a job in pure Python stops within milliseconds of its interrupt; one stuck in C code that long
# after its budget is spent has its worker killed
CANCEL_GRACE_S = 1.0


class WorkerLostError(StanceError):
    """A worker process died while running a job (killed from outside, out of memory)."""


class TextJobError(RuntimeError):
    """A text job failed in its worker with an error that is not one of the project's: a bug,
    answered as a plain 500 (the details go to the server log only)."""


class _JobCancelled(BaseException):
    """Raised inside a worker's job when the parent cancels it (BaseException: job code that
    catches Exception does not swallow it)."""


def _resolve(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _portable(err: Exception) -> Exception:
    """The error itself when the parent can rebuild it, else a TextJobError naming it."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001 - any error that does not survive the pipe is described instead
        return TextJobError(f"{type(err).__name__}: {err}")
    return err


def _worker_main(conn: Connection, tasks: Mapping[str, str], niceness: int, cancel: Any) -> None:
    """Child process: answer (number, name, args) jobs until the pipe closes.

    SIGUSR1 interrupts the running job when ``cancel`` holds its number (a late signal for a job
    already answered finds another number there and does nothing).
    """
    # Ctrl-C reaches the whole process group; the parent decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    running = 0  # the number of the job running now; 0 between jobs

    def stop_job(signum: int, frame: Any) -> None:
        if running and cancel.value == running:
            raise _JobCancelled

    signal.signal(signal.SIGUSR1, stop_job)
    # from here on SIGUSR1 interrupts a job instead of ending the process (its default)
    conn.send(("ready", None))
    if niceness:
        os.nice(niceness)
    functions = {name: _resolve(spec) for name, spec in tasks.items()}
    while True:
        try:
            number, name, args = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        try:
            try:
                running = number
                if cancel.value == number:  # cancelled before the worker could be signalled
                    raise _JobCancelled
                reply = ("ok", functions[name](*args))
            finally:
                running = 0
        except _JobCancelled:
            reply = ("cancelled", None)
        except Exception as err:  # noqa: BLE001 - the parent reports it; the worker lives on
            reply = ("error", _portable(err))
        conn.send(reply)


class _Worker:
    def __init__(self, context: Any, tasks: Mapping[str, str], niceness: int) -> None:
        self.conn, child = context.Pipe()
        # the number of the job to interrupt, shared with the child (no lock: one writer)
        self.cancel = context.Value("q", 0, lock=False)
        self.jobs = 0
        self.ready = False  # set once the worker says SIGUSR1 no longer ends it
        self.process = context.Process(
            target=_worker_main,
            args=(child, dict(tasks), niceness, self.cancel),
            name="stance-text-worker",
            daemon=True,
        )
        self.process.start()
        child.close()

    def next_job(self) -> int:
        """A number for the next job (on the event loop, so that it can be interrupted at once)."""
        self.jobs += 1
        return self.jobs

    def call(self, number: int, name: str, args: tuple) -> tuple[str, Any]:
        """Send a job and wait for its answer (blocking; runs on an I/O thread)."""
        if not self.ready:
            self.conn.recv()  # the worker's ("ready", None)
            self.ready = True
        self.conn.send((number, name, args))
        return self.conn.recv()

    def interrupt(self, number: int) -> None:
        """Stop job ``number``: it answers "cancelled" (at once if it has not started)."""
        self.cancel.value = number
        if self.ready:  # before that, the worker checks ``cancel`` when the job arrives
            with contextlib.suppress(OSError, TypeError):
                os.kill(self.process.pid, signal.SIGUSR1)

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        with contextlib.suppress(OSError):
            self.conn.close()


class TextWorkerPool:
    """A fixed number of worker processes, each running one job at a time.

    Args:
        size: worker processes.
        max_waiting: jobs that may wait for a free worker; more are refused (OverloadedError).
        max_client_waiting: jobs one client may keep waiting; more of its jobs are refused
            (OverloadedError). Default a quarter of ``max_waiting``.
        tasks: job name -> ``module:function``.
        on_outcome: called with "ok", "error", "timeout", "cancelled" or "lost" after each job.
        niceness: added to the workers' nice value, so that when the CPU is short, model
            requests and /health go first and a hostile text slows only other texts.
    """

    def __init__(
        self,
        size: int = 2,
        max_waiting: int = 64,
        tasks: Mapping[str, str] | None = None,
        on_outcome: Callable[[str], None] | None = None,
        niceness: int = 0,
        max_client_waiting: int | None = None,
    ) -> None:
        self.size = size
        self.niceness = niceness
        self.max_waiting = max_waiting
        # a quarter: 16 of the default 64, about what two workers finish within the 10 s budget
        # when each text is a 1 s article; one client's further jobs would wait only to time out
        self.max_client_waiting = max_client_waiting or max(1, max_waiting // 4)
        self.tasks = dict(tasks or TASKS)
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.replaced = 0
        self.busy = 0
        # spawn, not fork: the parent holds torch threads and an event loop that must not be copied
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] | None = None  # None: not started, or stopped
        # client -> its jobs waiting for a worker, oldest first; insertion-ordered: the line in
        # which clients take turns
        self._waiting: dict[Hashable, deque[asyncio.Future[_Worker]]] = {}
        self._all: set[_Worker] = set()
        self._reclaiming: set[asyncio.Task] = set()
        # one blocking call per worker at a time, plus room for reaping killed ones
        self._io = ThreadPoolExecutor(max_workers=2 * size + 2, thread_name_prefix="stance-text-io")

    @property
    def waiting(self) -> int:
        """Jobs waiting for a free worker now."""
        return sum(len(jobs) for jobs in self._waiting.values())

    async def start(self) -> None:
        self._idle = []
        for _ in range(self.size):
            self._release(self._spawn())

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.tasks, self.niceness)
        self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker that is stuck or gone, and start a fresh one in its place.

        Starting a process (fork, exec, handing it its start-up data) and reaping the old one
        happen on an I/O thread: the event loop, and with it /health, never waits for them.
        """
        worker.kill()
        self._all.discard(worker)
        self.replaced += 1
        loop = asyncio.get_running_loop()

        def respawn() -> _Worker:
            worker.process.join(5)
            return _Worker(self._context, self.tasks, self.niceness)

        def adopt(future: asyncio.Future[_Worker]) -> None:
            if future.cancelled() or future.exception() is not None:
                logger.error(
                    "could not start a text worker: %r", None if future.cancelled() else future.exception()
                )
                return
            fresh = future.result()
            if self._idle is None:  # stopped meanwhile
                fresh.kill()
                return
            self._all.add(fresh)
            self._release(fresh)

        loop.run_in_executor(self._io, respawn).add_done_callback(adopt)

    def pids(self) -> list[int]:
        """Process ids of the current workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._all if w.process.pid is not None]

    def alive(self) -> int:
        """How many workers are running now."""
        return sum(w.process.is_alive() for w in self._all)

    def _release(self, worker: _Worker) -> None:
        """Hand a free worker to the oldest job of the next client in line, or keep it idle."""
        if self._idle is None:  # stopped
            return
        while self._waiting:
            client = next(iter(self._waiting))
            jobs = self._waiting.pop(client)
            job = jobs.popleft()
            if jobs:
                self._waiting[client] = jobs  # served: to the back of the line
            if not job.done():
                job.set_result(worker)
                return
        self._idle.append(worker)

    async def _acquire(self, client: Hashable, budget_s: float) -> _Worker:
        """A free worker, waiting in ``client``'s line for at most ``budget_s`` (TimeoutError)."""
        if self._idle:  # a worker is idle only while no job waits
            return self._idle.pop()
        job: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(client, deque()).append(job)
        try:
            async with asyncio.timeout(budget_s):
                return await job
        except BaseException:  # the budget ran out, or the caller was cancelled
            if job.done() and not job.cancelled():
                self._release(job.result())  # handed a worker as it gave up: pass it on
            else:
                job.cancel()
                jobs = self._waiting.get(client)
                if jobs is not None and job in jobs:
                    jobs.remove(job)
                    if not jobs:
                        del self._waiting[client]
            raise

    async def run(self, name: str, *args: Any, budget_s: float, client: Hashable | None = None) -> Any:
        """Run a job in a worker and return its result.

        ``client`` names who sent it (:func:`serving.clients.request_client`): while jobs wait,
        clients take turns at the free workers. None: a client of its own.

        Raises:
            BudgetExceededError: the job (with its wait for a worker) took longer than ``budget_s``;
                its worker was killed and replaced.
            OverloadedError: more than ``max_waiting`` jobs wait already, or more than
                ``max_client_waiting`` of this client's.
            WorkerLostError: the worker died while running the job.
            StanceError: the job raised one of the project's errors (ParserUnavailable, InputError).
            TextJobError: the job raised any other error.
            asyncio.CancelledError: the caller was cancelled; the job was interrupted in its worker,
                which takes the next job (or is replaced if the job runs on past its budget).
        """
        if self._idle is None:
            raise RuntimeError("the worker pool is not started")
        key = client if client is not None else object()
        if self.waiting >= self.max_waiting:
            raise OverloadedError(f"{self.waiting} text jobs waiting; limit {self.max_waiting}")
        mine = len(self._waiting.get(key, ()))
        if mine >= self.max_client_waiting:
            raise OverloadedError(
                f"{mine} of your text jobs wait for a worker; limit {self.max_client_waiting} per "
                "client. Send more when they are answered."
            )
        deadline = time.monotonic() + budget_s
        try:
            worker = await self._acquire(key, budget_s)
        except TimeoutError:
            self.on_outcome("timeout")
            raise BudgetExceededError(f"no text worker was free within {budget_s:g} s") from None
        loop = asyncio.get_running_loop()
        number = worker.next_job()
        call = loop.run_in_executor(self._io, worker.call, number, name, args)
        # whoever stops waiting for the call, its outcome is read (no "never retrieved" noise)
        call.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.busy += 1
        try:
            remaining = max(0.0, deadline - time.monotonic())
            status, value = await asyncio.wait_for(asyncio.shield(call), remaining)
        except TimeoutError:
            self._replace(worker)
            self.on_outcome("timeout")
            raise BudgetExceededError(
                f"the text took longer than the {budget_s:g} s budget; the work was stopped"
            ) from None
        except asyncio.CancelledError:
            # the client is gone: stop the job where it is and keep the worker
            worker.interrupt(number)
            self._reclaim(worker, call, deadline)
            self.on_outcome("cancelled")
            raise
        except (EOFError, OSError) as err:
            self._replace(worker)
            self.on_outcome("lost")
            raise WorkerLostError(f"a text worker died during the job ({err!r})") from None
        finally:
            self.busy -= 1
        self._release(worker)
        self.on_outcome(status)
        if status == "ok":
            return value
        if isinstance(value, StanceError):
            raise value
        raise TextJobError(f"text job {name!r} failed in the worker: {type(value).__name__}: {value}")

    def _reclaim(self, worker: _Worker, call: asyncio.Future, deadline: float) -> None:
        """Take an interrupted worker back once it answers; replace it if it overruns the budget.

        Runs in the background, so a cancelled request returns at once.
        """

        async def reclaim() -> None:
            wait = max(deadline - time.monotonic(), CANCEL_GRACE_S)
            try:
                await asyncio.wait_for(asyncio.shield(call), wait)
            except (TimeoutError, EOFError, OSError):
                self._replace(worker)
                return
            self._release(worker)

        task = asyncio.get_running_loop().create_task(reclaim(), name="reclaim-text-worker")
        self._reclaiming.add(task)
        task.add_done_callback(self._reclaiming.discard)

    async def stop(self) -> None:
        """Stop every worker (jobs still running are killed)."""
        self._idle = None
        for task in self._reclaiming:
            task.cancel()
        for worker in list(self._all):
            worker.kill()
            worker.process.join(2)
        self._all.clear()
        self._io.shutdown(wait=False, cancel_futures=True)
