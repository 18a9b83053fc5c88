"""The shared worker thread: every job runs once, in order, results and errors come back."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from ari_app.media.batch_worker import BatchWorker


async def test_jobs_run_on_the_worker_thread_in_order_with_their_results() -> None:
    worker = BatchWorker("test-batch")
    ran: list[tuple[int, str]] = []

    def job(n: int) -> int:
        ran.append((n, threading.current_thread().name))
        return n * n

    results = await asyncio.gather(*(worker.run(functools.partial(job, n)) for n in range(50)))
    assert results == [n * n for n in range(50)]
    assert [n for n, _ in ran] == list(range(50))
    assert {name for _, name in ran} == {"test-batch"}
    assert worker.jobs_done == 50
    assert 1 <= worker.rounds <= 50


async def test_a_job_held_up_lets_the_others_queue_into_one_round() -> None:
    worker = BatchWorker("test-batch-round")
    started, gate = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait()

    first = worker.run(hold)
    await asyncio.to_thread(started.wait)
    rest = [worker.run(functools.partial(int, n)) for n in range(20)]  # queued meanwhile
    gate.set()
    assert await first is True
    assert await asyncio.gather(*rest) == list(range(20))
    assert worker.rounds == 2  # the first alone, then all twenty at once


async def test_an_error_reaches_its_caller_only() -> None:
    worker = BatchWorker("test-batch-error")

    def boom() -> int:
        raise ValueError("bad frame")

    bad, good = worker.run(boom), worker.run(lambda: 1)
    with pytest.raises(ValueError, match="bad frame"):
        await bad
    assert await good == 1


async def test_a_cancelled_wait_does_not_break_the_round() -> None:
    worker = BatchWorker("test-batch-cancel")
    gate = threading.Event()
    blocker = worker.run(gate.wait)
    cancelled, kept = worker.run(lambda: 1), worker.run(lambda: 2)
    cancelled.cancel()
    gate.set()
    await blocker
    assert await kept == 2
    assert cancelled.cancelled()


async def test_a_busy_worker_gathers_jobs_without_being_woken() -> None:
    """Jobs that arrive while the worker pauses between rounds run in its next round, and
    nobody had to wake it: callers wake only an idle worker."""
    resume = threading.Event()
    paused = threading.Event()

    def pause(seconds: float) -> None:
        assert 0 < seconds <= 1.0
        paused.set()
        resume.wait()

    worker = BatchWorker("test-batch-gather", gather_s=1.0, pause=pause)
    assert await worker.run(lambda: "first") == "first"
    await asyncio.to_thread(paused.wait)  # the worker is between rounds, not idle
    rest = [worker.run(functools.partial(int, n)) for n in range(30)]
    resume.set()
    assert await asyncio.gather(*rest) == list(range(30))
    assert worker.wakeups == 1  # only the very first job woke it
    assert worker.rounds == 2
