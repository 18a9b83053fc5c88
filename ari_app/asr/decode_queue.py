"""The queue of decodes waiting for a recogniser's workers, taken in batches.

A worker that comes free takes the most urgent job and the other jobs waiting, up to a
number of pieces of audio, so that one batched model call serves them all; when other
workers are free as well it takes only its share, so a burst is spread over them instead of
waiting for one batch. A caller whose turn has ended (:data:`FINAL`) goes first, then
decodes started early in case the caller has finished (:data:`SPECULATIVE`), then work
nobody waits on (:data:`BULK`, voicemail transcripts); within a priority, first come first
served. Cancelled jobs are dropped when taken.
"""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")

FINAL: Final = 0
"""A caller's turn has ended: they are waiting for the text."""
SPECULATIVE: Final = 1
"""A decode started at a pause, in case the caller has finished."""
BULK: Final = 2
"""Nobody is waiting (voicemail transcripts)."""
_CLOSE: Final = 3
_KIND: Final = {FINAL: "final", SPECULATIVE: "speculative", BULK: "bulk"}


@dataclass(slots=True)
class DecodeStats:
    """What a recogniser's workers did, for benchmarks and tuning (a consistent copy)."""

    queued: dict[str, int] = field(default_factory=dict)
    """Jobs put, by kind (final, speculative, bulk)."""
    skipped: int = 0
    """Jobs cancelled before a worker took them (no work done)."""
    wasted: int = 0
    """Speculative decodes thrown away after a worker had taken them."""
    batches: dict[int, int] = field(default_factory=dict)
    """How many batches of each size (in pieces) the workers ran."""
    busy_s: float = 0.0
    """Wall seconds the workers spent decoding."""


@dataclass(order=True, slots=True)
class DecodeJob(Generic[P, R]):
    """Pieces of audio to decode and the future that gets one result per piece."""

    priority: int
    seq: int
    pieces: list[P] = field(compare=False)
    future: concurrent.futures.Future[list[R]] = field(compare=False)


def batch_share(waiting: int, others_free: int, max_pieces: int) -> int:
    """How many pieces a worker takes of ``waiting`` when ``others_free`` workers wait too.

    An even share (rounded up), never more than ``max_pieces`` nor less than one: three
    decodes and one other free worker make batches of two and one, decoded side by side.
    """
    return max(1, min(max_pieces, math.ceil(waiting / (others_free + 1))))


class DecodeQueue(Generic[P, R]):
    """Thread-safe priority queue of :class:`DecodeJob` handed out in batches."""

    def __init__(self, closed_error: Callable[[], BaseException]) -> None:
        """``closed_error`` makes the error of a job put after :meth:`close`."""
        self._closed_error = closed_error
        self._queue: queue.PriorityQueue[DecodeJob[P, R]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._queued: collections.Counter[str] = collections.Counter()
        self._batches: collections.Counter[int] = collections.Counter()
        self._skipped = self._wasted = 0
        self._busy_s = 0.0
        self._idle = 0
        """Takers blocked waiting for a job."""

    def put(self, pieces: list[P], *, priority: int = FINAL) -> concurrent.futures.Future[list[R]]:
        """Queue ``pieces``; the future gets their results in order (or the decode's error)."""
        future: concurrent.futures.Future[list[R]] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                future.set_exception(self._closed_error())
                return future
            job = DecodeJob(priority, next(self._seq), pieces, future)
            self._queue.put(job)
            self._queued[_KIND[priority]] += 1
        return future

    def waiting(self) -> int:
        """Jobs queued and not yet taken by a worker (approximate, for load shedding)."""
        return self._queue.qsize()

    def take(self, max_pieces: int) -> list[DecodeJob[P, R]] | None:
        """Block for the next job, then add every waiting one while the batch has room.

        Returns the jobs still wanted (cancelled ones dropped, the rest marked running; may
        be empty), or None once :meth:`close` was called and nothing more is queued.
        """
        with self._lock:
            self._idle += 1
        first = self._queue.get()
        with self._lock:
            self._idle -= 1
            others_free = self._idle
        if first.priority == _CLOSE:
            return None
        jobs = [first]
        size = len(first.pieces)
        limit = batch_share(len(first.pieces) + self._queue.qsize(), others_free, max_pieces)
        while size < limit:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more.priority == _CLOSE:
                self._queue.put(more)  # for the next take
                break
            jobs.append(more)
            size += len(more.pieces)
        wanted = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        with self._lock:
            self._skipped += len(jobs) - len(wanted)
        return wanted

    def ran(self, pieces: int, seconds: float) -> None:
        """A worker decoded a batch of ``pieces`` in ``seconds`` (for :meth:`stats`)."""
        with self._lock:
            self._batches[pieces] += 1
            self._busy_s += seconds

    def wasted(self) -> None:
        """A decode already taken by a worker was thrown away (for :meth:`stats`)."""
        with self._lock:
            self._wasted += 1

    def stats(self) -> DecodeStats:
        """A copy of the counts so far."""
        with self._lock:
            return DecodeStats(
                dict(self._queued), self._skipped, self._wasted, dict(self._batches), self._busy_s
            )

    def close(self, workers: int) -> None:
        """Let ``workers`` takers return None once the jobs already queued are taken."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in range(workers):
                self._queue.put(DecodeJob(_CLOSE, next(self._seq), [], concurrent.futures.Future()))
