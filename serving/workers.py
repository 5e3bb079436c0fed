"""Text work (quote extraction) in worker processes that can be killed.

The quote splitter is pure Python: a slow input would hold the interpreter lock of whatever
process runs it, so it never runs in the process that answers ``/health``. Each job goes to an
idle worker process over a pipe; a job that runs past its time budget, or whose client has gone
away (the awaiting task is cancelled), gets its worker killed with SIGKILL and a fresh one started,
so the work stops instead of running on unseen.

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
import signal
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from stance.errors import BudgetExceededError, OverloadedError, StanceError

logger = logging.getLogger(__name__)

TASKS: dict[str, str] = {
    "quotes": "stance.quotes:extract_quotes",
    "quotes_with_context": "stance.analysis:quotes_with_context",
}
"""Job name -> ``module:function`` run in the worker; tests swap in their own functions."""


class WorkerLostError(StanceError):
    """A worker process died while running a job (killed from outside, out of memory)."""


def _resolve(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _worker_main(conn: Connection, tasks: Mapping[str, str], niceness: int) -> None:
    """Child process: answer (name, args) jobs until the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    functions = {name: _resolve(spec) for name, spec in tasks.items()}
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", functions[name](*args)))
        except Exception as err:  # noqa: BLE001 - the parent reports it; the worker lives on
            conn.send(("error", f"{type(err).__name__}: {err}"))


class _Worker:
    def __init__(self, context: Any, tasks: Mapping[str, str], niceness: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, dict(tasks), niceness), name="stance-text-worker", daemon=True
        )
        self.process.start()
        child.close()

    def call(self, name: str, args: tuple) -> tuple[str, Any]:
        """Send a job and wait for its answer (blocking; runs on an I/O thread)."""
        self.conn.send((name, args))
        return self.conn.recv()

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
    ) -> None:
        self.size = size
        self.niceness = niceness
        self.max_waiting = max_waiting
        self.tasks = dict(tasks or TASKS)
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.replaced = 0
        self.waiting = 0
        self.busy = 0
        # spawn, not fork: the parent holds torch threads and an event loop that must not be copied
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        # one blocking call per worker at a time, plus room for reaping killed ones
        self._io = ThreadPoolExecutor(max_workers=2 * size + 2, thread_name_prefix="stance-text-io")

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._idle.put_nowait(self._spawn())

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
            self._idle.put_nowait(fresh)

        loop.run_in_executor(self._io, respawn).add_done_callback(adopt)

    def pids(self) -> list[int]:
        """Process ids of the current workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._all if w.process.pid is not None]

    def alive(self) -> int:
        """How many workers are running now."""
        return sum(w.process.is_alive() for w in self._all)

    async def run(self, name: str, *args: Any, budget_s: float) -> Any:
        """Run a job in a worker and return its result.

        Raises:
            BudgetExceededError: the job (with its wait for a worker) took longer than ``budget_s``;
                its worker was killed and replaced.
            OverloadedError: more than ``max_waiting`` jobs wait already.
            WorkerLostError: the worker died while running the job.
            asyncio.CancelledError: the caller was cancelled; the worker was killed and replaced.
        """
        if self._idle is None:
            raise RuntimeError("the worker pool is not started")
        if self.waiting >= self.max_waiting:
            raise OverloadedError(f"{self.waiting} text jobs waiting; limit {self.max_waiting}")
        deadline = time.monotonic() + budget_s
        self.waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), budget_s)
        except TimeoutError:
            self.on_outcome("timeout")
            raise BudgetExceededError(f"no text worker was free within {budget_s:g} s") from None
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._io, worker.call, name, args)
        self.busy += 1
        try:
            status, value = await asyncio.wait_for(call, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            self._replace(worker)
            self.on_outcome("timeout")
            raise BudgetExceededError(
                f"the text took longer than the {budget_s:g} s budget; the work was stopped"
            ) from None
        except asyncio.CancelledError:
            self._replace(worker)
            self.on_outcome("cancelled")
            raise
        except (EOFError, OSError) as err:
            self._replace(worker)
            self.on_outcome("lost")
            raise WorkerLostError(f"a text worker died during the job ({err!r})") from None
        finally:
            self.busy -= 1
        if self._idle is not None:
            self._idle.put_nowait(worker)
        self.on_outcome(status)
        if status != "ok":
            raise RuntimeError(f"text job {name!r} failed in the worker: {value}")
        return value

    async def stop(self) -> None:
        """Stop every worker (jobs still running are killed)."""
        self._idle = None
        for worker in list(self._all):
            worker.kill()
            worker.process.join(2)
        self._all.clear()
        self._io.shutdown(wait=False, cancel_futures=True)
