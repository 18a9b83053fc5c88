"""The recogniser's decode queue: batches, callers before voicemail, cancelled jobs, close."""

from __future__ import annotations

import threading

import pytest

from ari_app.asr.decode_queue import (
    BULK,
    FINAL,
    SPECULATIVE,
    DecodeJob,
    DecodeQueue,
    batch_share,
)


def queue() -> DecodeQueue[str, str]:
    return DecodeQueue(lambda: RuntimeError("closed"))


def pieces(jobs: list[DecodeJob[str, str]] | None) -> list[list[str]]:
    assert jobs is not None
    return [job.pieces for job in jobs]


def test_a_free_worker_takes_every_waiting_job_up_to_the_batch_size() -> None:
    q = queue()
    for name in ("a", "b", "c", "d"):
        q.put([name])
    assert pieces(q.take(3)) == [["a"], ["b"], ["c"]]
    assert pieces(q.take(3)) == [["d"]]


def test_waiting_counts_jobs_not_yet_taken() -> None:
    q = queue()
    assert q.waiting() == 0
    q.put(["a"])
    q.put(["b"])
    assert q.waiting() == 2
    q.take(1)
    assert q.waiting() == 1


def test_a_long_job_is_taken_whole_even_past_the_batch_size() -> None:
    q = queue()
    q.put(["a1", "a2", "a3"])
    q.put(["b"])
    assert pieces(q.take(2)) == [["a1", "a2", "a3"]]
    assert pieces(q.take(2)) == [["b"]]


def test_ended_turns_go_before_speculations_and_those_before_voicemail() -> None:
    q = queue()
    q.put(["voicemail"], priority=BULK)
    q.put(["early 1"], priority=SPECULATIVE)
    q.put(["turn 1"])
    q.put(["early 2"], priority=SPECULATIVE)
    q.put(["turn 2"], priority=FINAL)
    assert pieces(q.take(2)) == [["turn 1"], ["turn 2"]]
    assert pieces(q.take(2)) == [["early 1"], ["early 2"]]
    assert pieces(q.take(2)) == [["voicemail"]]


def test_cancelled_jobs_are_dropped_and_taken_ones_are_running() -> None:
    q = queue()
    gone = q.put(["gone"])
    kept = q.put(["kept"])
    assert gone.cancel()
    jobs = q.take(4)
    assert pieces(jobs) == [["kept"]]
    assert kept.running()
    assert not kept.cancel()  # a running decode can no longer be cancelled


def test_close_lets_queued_jobs_finish_then_stops_every_worker() -> None:
    q = queue()
    q.put(["last"])
    q.close(workers=2)
    assert pieces(q.take(4)) == [["last"]]
    assert q.take(4) is None
    assert q.take(4) is None
    late = q.put(["late"])
    with pytest.raises(RuntimeError, match="closed"):
        late.result(timeout=0)


def test_a_worker_blocks_until_a_job_comes() -> None:
    q = queue()
    taken: list[list[list[str]]] = []
    worker = threading.Thread(target=lambda: taken.append(pieces(q.take(4))))
    worker.start()
    q.put(["x"])
    worker.join(timeout=10)
    assert taken == [[["x"]]]


@pytest.mark.parametrize(
    ("waiting", "others_free", "max_pieces", "share"),
    [
        (6, 0, 8, 6),  # nobody else free: everything waiting, as one batch
        (6, 1, 8, 3),  # a burst shared with the other free worker
        (3, 1, 8, 2),  # ... rounded up: two here, one there
        (1, 3, 8, 1),  # never less than one
        (20, 1, 8, 8),  # never more than a batch
    ],
)
def test_a_burst_is_shared_by_the_free_workers(
    waiting: int, others_free: int, max_pieces: int, share: int
) -> None:
    assert batch_share(waiting, others_free, max_pieces) == share
