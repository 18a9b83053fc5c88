"""One worker thread for many calls' small jobs, handing results back in batches.

Twenty calls each asking a thread pool to classify every 20 ms frame cost the event loop
a thread hand-over and a wake-up per frame: a thousand a second, a third of the loop's
time, and as many switches of the interpreter lock between the loop and the worker.
:class:`BatchWorker` takes jobs from every call on one queue; its thread runs whatever is
waiting, in order, and wakes each waiting event loop once per round with all the results
of that round. Under load rounds grow, so the cost per job falls when it matters.

Waking a thread is not free either (a futex call, on a virtual machine an interrupt to
another CPU, and an interpreter-lock hand-over): at twenty calls, waking the worker for
every frame took a quarter of the event loop's time. So a busy worker gathers: after a
round it pauses until ``gather_s`` has passed since the round began, then takes all that
arrived meanwhile, and callers wake it only when it has gone idle (nothing arrived during
its pause). A job therefore waits at most ``gather_s`` plus a round.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

T = TypeVar("T")
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]
GATHER_S: Final = 0.01
"""Default pause of a busy worker between rounds (seconds): at most 100 wake-ups a second."""


class BatchWorker:
    """A daemon thread running queued callables; :meth:`run` awaits one of them."""

    def __init__(
        self,
        name: str,
        *,
        gather_s: float = GATHER_S,
        pause: Callable[[float], object] = time.sleep,
    ) -> None:
        """A worker thread called ``name`` (started on first use); ``pause(seconds)`` is how
        it waits between rounds (tests pass their own)."""
        self.name = name
        self._gather_s = gather_s
        self._pause = pause
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._idle = True
        self.rounds = 0
        """Rounds run so far (each wakes every waiting loop once)."""
        self.jobs_done = 0
        self.wakeups = 0
        """Times a caller had to wake the idle worker."""

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``fn`` for the worker thread; the future gets its result or exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._jobs.append((fn, future, loop))
            if self._idle:
                self._idle = False
                self.wakeups += 1
                self._wake.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    self._idle = True
                    self._wake.wait()
                self._idle = False
                jobs, self._jobs = self._jobs, []
            began = time.monotonic()
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
            if (rest := self._gather_s - (time.monotonic() - began)) > 0:
                self._pause(rest)


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
