"""One worker thread for many calls' small jobs, handing results back in batches.

Twenty calls each asking a thread pool to classify every 20 ms frame cost the event loop
a thread hand-over and a wake-up per frame: a thousand a second, a third of the loop's
time, and as many switches of the interpreter lock between the loop and the worker.
:class:`BatchWorker` takes jobs from every call on one queue; its thread runs whatever is
waiting, in order, and wakes each waiting event loop once per round with all the results
of that round. Under load rounds grow, so the cost per job falls when it matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class BatchWorker:
    """A daemon thread running queued callables; :meth:`run` awaits one of them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self.rounds = 0
        """Rounds run so far (each wakes every waiting loop once)."""
        self.jobs_done = 0

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``fn`` for the worker thread; the future gets its result or exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._jobs.append((fn, future, loop))
            if len(self._jobs) == 1:
                self._wake.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    self._wake.wait()
                jobs, self._jobs = self._jobs, []
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, bool, Any]]] = {}
            for fn, future, loop in jobs:
                try:
                    outcome, ok = fn(), True
                except BaseException as exc:  # handed to the awaiting caller
                    outcome, ok = exc, False
                by_loop.setdefault(loop, []).append((future, ok, outcome))
            self.rounds += 1
            self.jobs_done += len(jobs)
            for loop, results in by_loop.items():
                # A closed loop raises RuntimeError: nobody is waiting there any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, results)


def _settle(results: list[tuple[Any, bool, Any]]) -> None:
    """On the waiting loop: give each future its outcome (unless it was cancelled)."""
    for future, ok, outcome in results:
        if future.done():
            continue
        if ok:
            future.set_result(outcome)
        else:
            future.set_exception(outcome)


_lock = threading.Lock()
_workers: dict[str, BatchWorker] = {}


def batch_worker(name: str) -> BatchWorker:
    """The process's one :class:`BatchWorker` called ``name``."""
    with _lock:
        worker = _workers.get(name)
        if worker is None:
            worker = _workers[name] = BatchWorker(name)
        return worker
